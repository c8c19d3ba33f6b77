#!/usr/bin/env bash
# Fuzzes server::wire with cargo-fuzz (libFuzzer): the request head parser,
# the chunked body decoder and the response head parser, each for a bounded
# time, then prints how many inputs each ran and how many crashes it found.
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 300        # 300 s per target
#   TARGETS="chunked" scripts/fuzz.sh 30
#
# Stable toolchain only. cargo-fuzz's default build asks for AddressSanitizer
# (`-Zsanitizer=address`), a nightly flag. We build with `--sanitizer none`
# instead: that passes only stable codegen flags (`-Cpasses=sancov-module`
# and `-Cllvm-args=-sanitizer-coverage-*`, which is all libFuzzer needs for
# coverage feedback), so no nightly is needed. The wire code has no
# `unsafe`, so ASan would add little; panics (including failed asserts and
# arithmetic overflow, since debug assertions are on) are what we hunt.
# To try ASan anyway on a stable toolchain: SANITIZER=address scripts/fuzz.sh
# (this sets RUSTC_BOOTSTRAP=1 so stable rustc accepts the -Z flag).
#
# cargo-fuzz is installed from crates.io if missing (`cargo install
# cargo-fuzz`). libFuzzer itself is C++ built by libfuzzer-sys: g++ needed.
#
# The growing corpus lives under the cargo target dir, seeded from
# fuzz/seeds/<target>; a crash is written to fuzz/artifacts/<target>/ and
# should become a regression test in server/tests/proptest_wire.rs.
set -euo pipefail

SECONDS_PER_TARGET="${1:-60}"
TARGETS="${TARGETS:-request_head chunked response_head}"
SANITIZER="${SANITIZER:-none}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz from crates.io..."
    cargo install cargo-fuzz --locked
fi
if [ "$SANITIZER" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi

cd "$ROOT/fuzz"
cargo fuzz build --sanitizer "$SANITIZER" -O

summary=()
status=0
for target in $TARGETS; do
    corpus="$CARGO_TARGET_DIR/corpus/$target"
    mkdir -p "$corpus" "artifacts/$target"
    log="$CARGO_TARGET_DIR/$target.log"
    echo "== $target: ${SECONDS_PER_TARGET}s (log: $log)"
    set +e
    cargo fuzz run --sanitizer "$SANITIZER" -O "$target" "$corpus" "seeds/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1
    code=$?
    set -e
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    crashes=$(find "artifacts/$target" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
    summary+=("$(printf '%-14s %12s execs  %6s s  coverage %6s  crashes %s  (exit %s)' \
        "$target" "${runs:-?}" "$SECONDS_PER_TARGET" "${cov:-?}" "$crashes" "$code")")
    if [ "$code" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        status=1
        tail -30 "$log"
    fi
done

echo
echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
exit $status
