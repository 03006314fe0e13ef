#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol (standard library only) for
host-bridge/tests/http.rs: opens URL, waits until the JavaScript expression WAIT is true,
prints the JSON value of the expression RESULT, and saves a screenshot.

usage: cdp.py CHROMIUM URL WAIT RESULT SCREENSHOT.png [TIMEOUT_S]
"""
import base64, json, os, shutil, socket, struct, subprocess, sys, tempfile, time, urllib.request


class Ws:
    """A minimal WebSocket client (RFC 6455, text frames, client masking)."""

    def __init__(self, url):
        rest = url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(head.decode(errors="replace"))
        self.buf = b""
        self.id = 0

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("DevTools closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            msg += self._read(n)
            if b0 & 0x80:
                return json.loads(msg)

    def call(self, method, **params):
        self.id += 1
        self.send({"id": self.id, "method": method, "params": params})
        while True:
            m = self.recv()
            if m.get("id") == self.id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")


def main():
    chromium, url, wait, result, shot = sys.argv[1:6]
    timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 60
    prof = tempfile.mkdtemp(prefix="sixgate-chromium-")
    p = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-dev-shm-usage", "--remote-debugging-port=0",
                          "--remote-allow-origins=*", f"--user-data-dir={prof}",
                          "--window-size=1400,1000", "about:blank"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(prof, "DevToolsActivePort")
        t0 = time.time()
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if time.time() - t0 > 30:
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(x for x in pages if x.get("type") == "page")
        ws = Ws(page["webSocketDebuggerUrl"])
        ws.call("Page.enable")
        ws.call("Page.navigate", url=url)
        t0 = time.time()
        def ready():
            try:
                return ws.eval(f"!!({wait})")
            except RuntimeError:  # the page is not there yet
                return False
        while not ready():
            if time.time() - t0 > timeout:
                print(json.dumps({"timeout": True, "dom": ws.eval("document.body.innerText")}))
                sys.exit(2)
            time.sleep(0.2)
        print(json.dumps(ws.eval(result)))
        png = ws.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png["data"]))
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(prof, ignore_errors=True)


if __name__ == "__main__":
    main()
