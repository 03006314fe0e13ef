#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) with libFuzzer, without cargo-fuzz:
#   bash fuzz/run.sh [SECONDS]
# Builds the targets the way `cargo fuzz build` does (SanitizerCoverage, AddressSanitizer,
# `--cfg fuzzing`; debug assertions and overflow checks on) with the nightly toolchain, which it
# installs with rustup if missing. Where nightly cannot be installed (no network to the Rust
# distribution server), it uses the default toolchain with RUSTC_BOOTSTRAP=1 (the `-Z` flags
# the sanitizer needs; stable ships the AddressSanitizer runtime). FUZZ_TOOLCHAIN=NAME picks a
# rustup toolchain instead. Each target starts from its committed corpus in
# fuzz/corpus/TARGET (read only: new inputs go to a temporary directory that is removed
# afterwards). Exits non-zero if any target crashes, panics, leaks, hangs or fails to build;
# the input that did it is left in fuzz/artifacts/TARGET/ (its path is printed) and replays with
#   fuzz/target/x86_64-unknown-linux-gnu/release/TARGET fuzz/artifacts/TARGET/crash-…
# (under $CARGO_TARGET_DIR instead of fuzz/target when that is set).
set -euo pipefail

secs="${1:-30}"
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS]   (whole seconds per target, default 30)" >&2
  exit 2
fi

fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
cd "$fuzz_dir"

if ! command -v rustup >/dev/null 2>&1; then
  echo "run.sh: rustup not found; install it (https://rustup.rs) to get a nightly toolchain" >&2
  exit 1
fi
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
  if [ "$toolchain" = nightly ]; then
    echo "run.sh: installing the nightly toolchain (the sanitizer flags need it)"
    if ! timeout 600 rustup toolchain install nightly --profile minimal; then
      toolchain="$(rustup show active-toolchain | cut -d' ' -f1)"
      echo "run.sh: nightly could not be installed; using $toolchain with RUSTC_BOOTSTRAP=1"
      export RUSTC_BOOTSTRAP=1
    fi
  else
    echo "run.sh: toolchain $toolchain is not installed (rustup toolchain list)" >&2
    exit 1
  fi
fi
case "$toolchain" in
  nightly*) ;;
  *) export RUSTC_BOOTSTRAP=1 ;;
esac
echo "run.sh: toolchain $(rustup run "$toolchain" rustc --version)"

# The sanitizer flags must not reach build scripts and proc-macros: build for an explicit
# target so RUSTFLAGS apply to that target only.
triple="$(rustup run "$toolchain" rustc -vV | sed -n 's/^host: //p')"
target_dir="${CARGO_TARGET_DIR:-$fuzz_dir/target}"
bin_dir="$target_dir/$triple/release"

flags=(
  -Cpasses=sancov-module
  -Cllvm-args=-sanitizer-coverage-level=4
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
  -Cllvm-args=-sanitizer-coverage-pc-table
  -Cllvm-args=-sanitizer-coverage-trace-compares
  --cfg fuzzing
  -Zsanitizer=address
  -Cdebug-assertions
  -Coverflow-checks
  -Cforce-frame-pointers
)
echo "=== building the fuzz targets ($toolchain, $triple)"
RUSTFLAGS="${flags[*]}" rustup run "$toolchain" cargo build --release --bins \
  --target "$triple" --manifest-path "$fuzz_dir/Cargo.toml"

targets=()
for f in "$fuzz_dir"/fuzz_targets/*.rs; do
  targets+=("$(basename "$f" .rs)")
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=()
summary=()
for t in "${targets[@]}"; do
  echo
  echo "=== $t: ${secs}s"
  bin="$bin_dir/$t"
  if [ ! -x "$bin" ]; then
    echo "run.sh: $bin was not built" >&2
    failed+=("$t (not built)")
    continue
  fi
  mkdir -p "$work/$t" "$fuzz_dir/artifacts/$t"
  seeds=()
  if [ -d "$fuzz_dir/corpus/$t" ]; then
    seeds=("$fuzz_dir/corpus/$t")
  fi
  log="$work/$t.log"
  # The first corpus directory receives new inputs; the committed one is only read.
  # Progress lines (new coverage, reductions) and the dictionary go to the log only.
  set +e
  "$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$fuzz_dir/artifacts/$t/" "$work/$t" "${seeds[@]}" 2>&1 |
    tee "$log" |
    grep --line-buffered -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)|^[[:space:]]+NEW_FUNC|^"'
  rc="${PIPESTATUS[0]}"
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  if [ "$rc" -ne 0 ]; then
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    failed+=("$t: exit $rc${artifact:+, input: $artifact}")
    summary+=("$t: FAILED after ${runs:-?} runs${artifact:+ (input: $artifact)}")
  else
    summary+=("$t: ok, ${runs:-?} runs in ${secs}s")
  fi
done

echo
echo "=== fuzz summary"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "run.sh: ${#failed[@]} target(s) failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
