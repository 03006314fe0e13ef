#!/usr/bin/env bash
# Instructions per datagram (and per forwarded packet) for sixgate and smoltcp, counted by
# valgrind's callgrind: stable on a noisy machine where wall-clock figures are not.
#
# Usage: scripts/instructions.sh [SMALL LARGE]
#
# Builds `tests/examples/instructions.rs` in release (the workspace's release profile keeps
# line-table debug info), then runs each path under `valgrind --tool=callgrind` twice, with
# SMALL and LARGE iterations (default 200 and 2200), and prints
# (instructions(LARGE) - instructions(SMALL)) / (LARGE - SMALL): the setup (stack creation,
# the checks each mode runs before and after its loop) cancels out. The paths are those of
# `cargo bench -p tests` (see tests/benches/perf.rs and docs/performance.md).
#
# Installs valgrind with apt-get if it is missing and we are root. Respects CARGO_TARGET_DIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
small="${1:-200}"
large="${2:-2200}"
if ! [[ "$small" =~ ^[0-9]+$ && "$large" =~ ^[0-9]+$ ]] || ((large <= small)); then
    echo "usage: $0 [SMALL LARGE] (iteration counts, LARGE > SMALL)" >&2
    exit 2
fi

if ! command -v valgrind >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "installing valgrind..." >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >&2
    else
        echo "valgrind is not installed (and this is not a root shell with apt-get):" >&2
        echo "install it, e.g. 'sudo apt-get install valgrind', and run again" >&2
        exit 1
    fi
fi

target="${CARGO_TARGET_DIR:-$here/target}"
echo "building the instructions example (release, debug info) in $target..." >&2
(cd "$here" && cargo build --release -p tests --example instructions >&2)
bin="$target/release/examples/instructions"
[[ -x "$bin" ]] || { echo "no binary at $bin" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Total instructions of one run of MODE with N iterations.
count() {
    local mode="$1" n="$2" out="$work/$1.$2.out"
    if ! valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$mode" "$n" \
        >"$work/$1.$2.log" 2>&1; then
        echo "$mode with $n iterations failed:" >&2
        cat "$work/$1.$2.log" >&2
        exit 1
    fi
    local total
    total="$(awk '/^(summary|totals):/ { print $2; exit }' "$out")"
    [[ -n "$total" ]] || { echo "no instruction total for $mode" >&2; exit 1; }
    echo "$total"
}

# Instructions per iteration of MODE.
per() {
    local a b
    a="$(count "$1" "$small")"
    b="$(count "$1" "$large")"
    echo $(((b - a) / (large - small)))
}

declare -A ir
modes=(udp-ours-full udp-smoltcp-full udp-ours-full-same-fcs udp-smoltcp-full-same-fcs
    udp-ours-hw-fcs udp-smoltcp-hw-fcs udp-ours-bare udp-smoltcp-bare fcs fcs-crc-default fwd-down wire-down fwd-up wire-up memcpy scale-8 scale-64 scale-256
    route-16-d1 route-16-d4 route-16-d8 route-16-d16 route-256-d8 route-1024-d8 route-1024-d16)
for m in "${modes[@]}"; do
    echo "counting $m..." >&2
    ir[$m]="$(per "$m")"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo
echo "instructions per datagram / packet (callgrind; $small vs $large iterations, difference)"
echo
printf '%-56s %12s %12s %7s\n' "path" "ours" "baseline" "ratio"
printf '%-56s %12s %12s %7s\n' "----" "----" "--------" "-----"
for w in full full-same-fcs hw-fcs bare; do
    o="${ir[udp-ours-$w]}"
    s="${ir[udp-smoltcp-$w]}"
    printf '%-56s %12d %12d %7s\n' "udp 1232 B endpoint to endpoint, $w (smoltcp)" "$o" "$s" \
        "$(ratio "$o" "$s")"
done
printf '%-56s %12d %12d %7s\n' "fcs of the 12 frames, compute + check (crc default)" \
    "${ir[fcs]}" "${ir[fcs-crc-default]}" "$(ratio "${ir[fcs]}" "${ir[fcs-crc-default]}")"
for d in down up; do
    o="${ir[fwd-$d]}"
    s="${ir[wire-$d]}"
    m="${ir[memcpy]}"
    label="eth-to-wpan"
    [[ "$d" == up ]] && label="wpan-to-eth"
    printf '%-56s %12d %12d %7s\n' "forward 1280 B $label (smoltcp wire)" "$o" "$s" \
        "$(ratio "$o" "$s")"
    printf '%-56s %12d %12d %7s\n' "forward 1280 B $label (memcpy)" "$o" "$m" \
        "$(ratio "$o" "$m")"
done
for n in 8 64 256; do
    printf '%-56s %12d %12d %7s\n' "forward 1280 B eth-to-wpan, $n registered (8)" \
        "${ir[scale-$n]}" "${ir[scale-8]}" "$(ratio "${ir[scale-$n]}" "${ir[scale-8]}")"
done
for d in 1 4 8 16; do
    printf '%-56s %12d %12d %7s\n' "RPL root: source route + tunnel headers, depth $d (depth 1)" \
        "${ir[route-16-d$d]}" "${ir[route-16-d1]}" "$(ratio "${ir[route-16-d$d]}" "${ir[route-16-d1]}")"
done
for n in 256 1024; do
    for d in 8 16; do
        [[ -n "${ir[route-$n-d$d]:-}" ]] || continue
        printf '%-56s %12d %12d %7s\n' "RPL root, depth $d, $n targets (16 targets)" \
            "${ir[route-$n-d$d]}" "${ir[route-16-d$d]}" "$(ratio "${ir[route-$n-d$d]}" "${ir[route-16-d$d]}")"
    done
done
echo
echo "ours: sixlo + l2-15_4 endpoints (udp rows), the border-router App (forward rows);"
echo "udp full: smoltcp's device computes the FCS with the crc crate's default one-table CRC;"
echo "full-same-fcs: with l2-15_4's (ours, slice-by-16)."
echo "baseline: named in parentheses; ratio = ours / baseline. 'N registered': the router with"
echo "N mesh nodes in its registration table, forwarding to the last one registered; baseline the"
echo "same with 8. Details: docs/performance.md."
