#!/usr/bin/env bash
# Builds the QEMU Cortex-M4 image (firmware/boards/qemu-m4, release) and runs it on QEMU's
# MPS2 AN386 (`qemu-system-arm -machine mps2-an386`): the management protocol on UART0 (a
# PTY: `sixgate --port PATH`), the board's console (boot line, a status line every 10 s of
# emulated time, faults) on UART1, printed here.
#
#   scripts/qemu-m4.sh [--serial-pty PATH] [--duration SECS] [--icount SHIFT] [--fast]
#                      [--console FILE] [--build-only]
#
#   --serial-pty PATH  symlink the UART0 PTY at PATH (as `sixgate-sim --serial-pty` does)
#   --duration SECS    stop after SECS seconds of *emulated* time (read from the console's
#                      status lines); exit 1 if the console reported a fault
#   --icount SHIFT     each instruction takes 2^SHIFT ns of emulated time (default 5: about
#                      31 M instructions/s, a 25-32 MHz Cortex-M4). The image always runs
#                      with -icount: QEMU 7.2 moves neither SysTick nor the CMSDK timers
#                      without it. While the core sleeps, emulated time follows the wall clock
#   --fast             ... unless this is given (sleep=off): idle time is skipped, so
#                      emulated time runs far ahead of the wall clock (long runs)
#   --console FILE     also keep the console in FILE
#   --build-only       build, print the image's path, exit
# Exits non-zero if the build fails, qemu-system-arm is missing, or a fault was reported.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
board="$root/firmware/boards/qemu-m4"

pty_link="" duration="" icount=5 sleep=on console="" build_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --serial-pty) pty_link="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --icount) icount="$2"; shift 2 ;;
    --fast) sleep=off; shift ;;
    --console) console="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "qemu-m4.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$board/target}"
# Not --locked, as for the nRF52840 image (see its size.sh).
(cd "$board" && cargo build --release --quiet)
elf="$CARGO_TARGET_DIR/thumbv7em-none-eabihf/release/sixgate-qemu-m4"
if [ "$build_only" = 1 ]; then
  echo "$elf"
  exit 0
fi
command -v qemu-system-arm >/dev/null || {
  echo "qemu-m4.sh: qemu-system-arm not found (Debian: apt-get install qemu-system-arm)" >&2
  exit 1
}

work="$(mktemp -d)"
[ -n "$console" ] || console="$work/console.txt"
: > "$console"
args=(-machine mps2-an386 -nographic -monitor none -serial pty -serial "file:$console"
  -icount "shift=$icount,sleep=$sleep" -kernel "$elf")

qemu-system-arm "${args[@]}" > "$work/qemu.out" 2>&1 &
qemu=$!
tail -n +1 -f "$console" &
tailer=$!
cleanup() {
  kill "$qemu" "$tailer" 2>/dev/null || true
  wait "$qemu" 2>/dev/null || true
  [ -z "$pty_link" ] || rm -f "$pty_link"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# QEMU names the PTY on its standard output.
pty=""
for _ in $(seq 100); do
  pty="$(sed -n 's/^char device redirected to \(\/dev\/[^ ]*\) (label serial0).*/\1/p' "$work/qemu.out")"
  [ -n "$pty" ] && break
  kill -0 "$qemu" 2>/dev/null || { cat "$work/qemu.out" >&2; exit 1; }
  sleep 0.1
done
[ -n "$pty" ] || { echo "qemu-m4.sh: QEMU named no PTY" >&2; cat "$work/qemu.out" >&2; exit 1; }
echo "qemu-m4.sh: management line on $pty${pty_link:+ (symlinked at $pty_link)}" >&2
[ -z "$pty_link" ] || ln -sfn "$pty" "$pty_link"

if [ -z "$duration" ]; then
  wait "$qemu"
  exit $?
fi
while kill -0 "$qemu" 2>/dev/null; do
  if grep -q '^FAULT' "$console"; then
    echo "qemu-m4.sh: the image reported a fault" >&2
    exit 1
  fi
  up="$(sed -n 's/^status uptime_s=\([0-9]*\).*/\1/p' "$console" | tail -n 1)"
  if [ -n "$up" ] && [ "$up" -ge "$duration" ]; then
    exit 0
  fi
  sleep 0.5
done
echo "qemu-m4.sh: QEMU exited before $duration s of emulated time" >&2
exit 1
