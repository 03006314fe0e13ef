#!/usr/bin/env bash
# Builds the QEMU Cortex-M4 image (firmware/boards/qemu-m4, release) and runs it on QEMU's
# MPS2 AN386 (`qemu-system-arm -machine mps2-an386`): the management protocol on UART0 (a
# PTY: `sixgate --port PATH`), the board's console (boot line, a status line every 10 s of
# emulated time, faults) on UART1, printed here.
#
#   scripts/qemu-m4.sh [--serial-pty PATH] [--duration SECS] [--icount SHIFT] [--fast]
#                      [--console FILE] [--build-only] [--bench]
#
#   --serial-pty PATH  symlink the UART0 PTY at PATH (as `sixgate-sim --serial-pty` does)
#   --duration SECS    stop after SECS seconds of *emulated* time (read from the console's
#                      status lines); exit 1 if the console reported a fault, QEMU ended
#                      first, or SECS + 120 s of wall clock passed first (a hung image)
#   --icount SHIFT     each instruction takes 2^SHIFT ns of emulated time (default 5: about
#                      31 M instructions/s, a 25-32 MHz Cortex-M4). The image always runs
#                      with -icount: QEMU 7.2 moves neither SysTick nor the CMSDK timers
#                      without it. While the core sleeps, emulated time follows the wall clock
#   --fast             ... unless this is given (sleep=off): idle time is skipped, so
#                      emulated time runs far ahead of the wall clock (long runs)
#   --console FILE     also keep the console in FILE
#   --build-only       build, print the image's path, exit
#   --bench            the measurement mode (the image's `bench` feature, src/bench.rs): quiet
#                      far ends, 1280-byte packets backbone -> node and node -> backbone; runs
#                      with -icount shift=0 (1 instruction = 1 ns of emulated time), sleep=off,
#                      UART0 unused, and prints the instructions the application spends per
#                      packet each way, then those of CCM* (link-layer security, software
#                      AES) to secure and to open one 802.15.4 frame and the AES blocks it
#                      takes (src/ccm.rs; about 20 s)
# Exits non-zero if the build fails, qemu-system-arm is missing, or a fault was reported.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
board="$root/firmware/boards/qemu-m4"

pty_link="" duration="" icount=5 sleep=on console="" build_only=0 bench=0
while [ $# -gt 0 ]; do
  case "$1" in
    --serial-pty) pty_link="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --icount) icount="$2"; shift 2 ;;
    --fast) sleep=off; shift ;;
    --console) console="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --bench) bench=1; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "qemu-m4.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$board/target}"
features=()
[ "$bench" = 0 ] || features=(--features bench)
# Not --locked, as for the nRF52840 image (see its size.sh).
(cd "$board" && cargo build --release --quiet "${features[@]}")
elf="$CARGO_TARGET_DIR/thumbv7em-none-eabihf/release/sixgate-qemu-m4"
if [ "$build_only" = 1 ]; then
  echo "$elf"
  exit 0
fi
command -v qemu-system-arm >/dev/null || {
  echo "qemu-m4.sh: qemu-system-arm not found (Debian: apt-get install qemu-system-arm)" >&2
  exit 1
}

if [ "$bench" = 1 ]; then
  # The image built with `bench` replaces the ordinary one at $elf: keep a copy to run.
  work="$(mktemp -d)"
  cp "$elf" "$work/image.elf"
  [ -n "$console" ] || console="$work/console.txt"
  : > "$console"
  qemu-system-arm -machine mps2-an386 -nographic -monitor none -serial null \
    -serial "file:$console" -icount shift=0,sleep=off -kernel "$work/image.elf" \
    > "$work/qemu.out" 2>&1 &
  qemu=$!
  cleanup() {
    kill "$qemu" 2>/dev/null || true
    wait "$qemu" 2>/dev/null || true
    rm -rf "$work"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  # 100 packets each way take about 25 s of emulated time, a few seconds of wall clock.
  for _ in $(seq 1200); do
    grep -q '^bench done\|^FAULT' "$console" && break
    kill -0 "$qemu" 2>/dev/null || break
    sleep 0.1
  done
  grep '^bench' "$console" >&2 || true
  if grep '^FAULT' "$console" >&2 || ! grep -q '^bench done' "$console"; then
    echo "qemu-m4.sh: the measurement did not finish (console above)" >&2
    exit 1
  fi
  echo "instructions per forwarded 1280-byte packet on the Cortex-M4 (QEMU -icount shift=0," \
    "application calls only):"
  # shift=0: one instruction per ns of emulated time.
  sed -n 's/^bench \(down\|up\) packets=\([0-9]*\) frames=\([0-9]*\) calls=\([0-9]*\) .*ns_per_packet=\([0-9]*\).*/\1 \2 \3 \4 \5/p' "$console" |
    while read -r dir packets frames calls per; do
      label="eth-to-wpan (backbone -> node)"
      [ "$dir" = up ] && label="wpan-to-eth (node -> backbone)"
      printf '  %-32s %9d  (%d packets, %d frames, %d calls/packet)\n' "$label" "$per" \
        "$packets" "$frames" "$((calls / packets))"
    done
  echo "CCM* per 802.15.4 frame on the Cortex-M4, software AES (aes::Aes128, fixsliced):" \
    "instructions to secure (security::secure) and to open (LinkSecurity::receive)"
  # 2006 data frame, extended addresses, aux header key id mode 1 (27 header bytes).
  printf '  %-50s %9s %9s  %s\n' "frame (27-byte header)" secure open "AES blocks secure/open"
  sed -n 's/^bench ccm psdu=\([0-9]*\) payload=\([0-9]*\) level=\([0-9]*\) mic=\([0-9]*\) frames=\([0-9]*\) aes_blocks_secure=\([0-9]*\) aes_blocks_open=\([0-9]*\) ns_per_secure=\([0-9]*\) ns_per_open=\([0-9]*\).*/\1 \2 \3 \4 \5 \6 \7 \8 \9/p' \
    "$console" |
    while read -r psdu payload level mic frames bs bo sec opn; do
      printf '  %-50s %9d %9d  %d/%d  (%d frames)\n' \
        "$psdu-byte PSDU, $payload-byte payload, level $level (MIC $mic)" "$sec" "$opn" "$bs" "$bo" \
        "$frames"
    done
  sed -n 's/^bench aes blocks=\([0-9]*\) ns_per_block=\([0-9]*\).*/\1 \2/p' "$console" |
    while read -r blocks per; do
      printf '  %-50s %9d  (%d blocks)\n' "one AES-128 block alone" "$per" "$blocks"
    done
  grep -q '^bench ccm ' "$console" || {
    echo "qemu-m4.sh: the image printed no CCM* figures" >&2
    exit 1
  }
  exit 0
fi

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
deadline=$((SECONDS + duration + 120))
while kill -0 "$qemu" 2>/dev/null; do
  if grep -q '^FAULT' "$console"; then
    echo "qemu-m4.sh: the image reported a fault" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "qemu-m4.sh: $duration s of emulated time not reached in $((duration + 120)) s" >&2
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
