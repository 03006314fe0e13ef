#!/usr/bin/env bash
# Instructions per datagram (and per forwarded packet) for sixgate and smoltcp, counted by
# valgrind's callgrind: stable on a noisy machine where wall-clock figures are not.
#
# Usage: scripts/instructions.sh [SMALL LARGE]
#        MODES="hop-down-8138-off hop-down-8138-on" scripts/instructions.sh   # only these modes
#
# Builds `tests/examples/instructions.rs` in release (the workspace's release profile keeps
# line-table debug info), then runs each path under `valgrind --tool=callgrind` twice, with
# SMALL and LARGE iterations (default 200 and 2200), and prints
# (instructions(LARGE) - instructions(SMALL)) / (LARGE - SMALL): the setup (stack creation,
# the checks each mode runs before and after its loop) cancels out. The paths are those of
# `cargo bench -p tests` (see tests/benches/perf.rs and docs/performance.md).
#
# The `ccm-*` modes count CCM* (link-layer security) per 802.15.4 frame on this host (x86-64:
# the aes crate takes AES-NI when the CPU has it); `scripts/qemu-m4.sh --bench` counts the same
# frames on the Cortex-M4 with software AES.
#
# The `hop-*` modes (a mesh router relaying a packet, issue 23) need the firmware's router
# role: the example is built a second time with `--features router-role` for them, so the other
# modes keep measuring the product build of the border router (no router role).
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
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "building the instructions example (release, debug info) in $target..." >&2
for features in "" router-role; do
    (cd "$here" && cargo build --release -p tests --example instructions ${features:+--features "$features"} >&2)
    built="$target/release/examples/instructions"
    [[ -x "$built" ]] || { echo "no binary at $built" >&2; exit 1; }
    cp "$built" "$work/instructions${features:+-$features}"
done

# Total instructions of one run of MODE with N iterations.
count() {
    local mode="$1" n="$2" out="$work/$1.$2.out" bin="$work/instructions"
    [[ "$mode" == hop-* ]] && bin="$work/instructions-router-role"
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
all_modes=(udp-ours-full udp-smoltcp-full udp-ours-full-same-fcs udp-smoltcp-full-same-fcs
    udp-ours-hw-fcs udp-smoltcp-hw-fcs udp-ours-bare udp-smoltcp-bare fcs fcs-crc-default fwd-down wire-down fwd-up wire-up memcpy scale-8 scale-64 scale-256
    route-16-d1 route-16-d4 route-16-d8 route-16-d16 route-256-d8 route-1024-d8 route-1024-d16
    hop-down-8138-off hop-down-8138-on hop-up-8138-off hop-up-8138-on
    ccm-secure-127 ccm-both-127 ccm-secure-40 ccm-both-40)
read -r -a modes <<<"${MODES:-${all_modes[*]}}"
for m in "${modes[@]}"; do
    echo "counting $m..." >&2
    ir[$m]="$(per "$m")"
done

# CCM* open = (secure + open) - secure.
for l in 127 40; do
    if [[ -n "${ir[ccm-secure-$l]:-}" && -n "${ir[ccm-both-$l]:-}" ]]; then
        ir[ccm-open-$l]=$((ir[ccm-both-$l] - ir[ccm-secure-$l]))
    fi
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# Whether every named mode was counted (MODES may select a few).
have() {
    local k
    for k in "$@"; do [[ -n "${ir[$k]:-}" ]] || return 1; done
}
# One row: label, ours, baseline.
row() { printf '%-56s %12d %12d %7s\n' "$1" "${ir[$2]}" "${ir[$3]}" "$(ratio "${ir[$2]}" "${ir[$3]}")"; }

echo
echo "instructions per datagram / packet (callgrind; $small vs $large iterations, difference)"
echo
printf '%-56s %12s %12s %7s\n' "path" "ours" "baseline" "ratio"
printf '%-56s %12s %12s %7s\n' "----" "----" "--------" "-----"
for w in full full-same-fcs hw-fcs bare; do
    have "udp-ours-$w" "udp-smoltcp-$w" || continue
    row "udp 1232 B endpoint to endpoint, $w (smoltcp)" "udp-ours-$w" "udp-smoltcp-$w"
done
have fcs fcs-crc-default && row "fcs of the 12 frames, compute + check (crc default)" fcs fcs-crc-default
for d in down up; do
    label="eth-to-wpan"
    [[ "$d" == up ]] && label="wpan-to-eth"
    have "fwd-$d" "wire-$d" && row "forward 1280 B $label (smoltcp wire)" "fwd-$d" "wire-$d"
    have "fwd-$d" memcpy && row "forward 1280 B $label (memcpy)" "fwd-$d" memcpy
done
for n in 8 64 256; do
    have "scale-$n" scale-8 && row "forward 1280 B eth-to-wpan, $n registered (8)" "scale-$n" scale-8
done
for d in 1 4 8 16; do
    have "route-16-d$d" route-16-d1 &&
        row "RPL root: source route + tunnel headers, depth $d (depth 1)" "route-16-d$d" route-16-d1
done
for n in 256 1024; do
    for d in 8 16; do
        have "route-$n-d$d" "route-16-d$d" &&
            row "RPL root, depth $d, $n targets (16 targets)" "route-$n-d$d" "route-16-d$d"
    done
done
for d in down up; do
    label="down, SRH tunnel 1344 B"
    [[ "$d" == up ]] && label="up, 1280 B to the root"
    have "hop-$d-8138-off" && row "router hop $label, 8138 off (itself)" "hop-$d-8138-off" "hop-$d-8138-off"
    have "hop-$d-8138-on" "hop-$d-8138-off" &&
        row "router hop $label, 8138 on (off)" "hop-$d-8138-on" "hop-$d-8138-off"
done
for l in 127 40; do
    label="127 B PSDU"
    [[ "$l" == 40 ]] && label="40 B payload"
    have "ccm-secure-$l" && row "CCM* secure one frame, $label, level 5 (itself)" "ccm-secure-$l" "ccm-secure-$l"
    have "ccm-open-$l" "ccm-secure-$l" &&
        row "CCM* open one frame, $label, level 5 (secure)" "ccm-open-$l" "ccm-secure-$l"
done
echo
echo "ours: sixlo + l2-15_4 endpoints (udp rows), the border-router App (forward rows);"
echo "udp full: smoltcp's device computes the FCS with the crc crate's default one-table CRC;"
echo "full-same-fcs: with l2-15_4's (ours, slice-by-16)."
echo "baseline: named in parentheses; ratio = ours / baseline. 'N registered': the router with"
echo "N mesh nodes in its registration table, forwarding to the last one registered; baseline the"
echo "same with 8. 'mesh router hop': one of our routers relaying one packet, frames in to frames"
echo "out (tests::mesh), RFC 8138 on against off. 'CCM*': link-layer security on one 802.15.4"
echo "frame, host x86-64 figures (the aes crate uses AES-NI where the CPU has it); the Cortex-M4"
echo "figures with software AES: scripts/qemu-m4.sh --bench. Details: docs/performance.md."
