# servers.sh: sourced by the measuring scripts (instructions.sh, wakeups.sh,
# cpu-split.sh). Finds the release binaries, builds them unless `build` is
# 0, and checks the comma-separated `servers` list (hyper, ours, and
# fixed-response: the parse-free ceiling of `benches/README.md`). Arguments:
# more binaries of the benches package to build (e.g. fixed-load).
# Expects `die`, `build` and `servers` to be set by the script.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${CARGO_TARGET_DIR:-$(cd "$repo" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}
bin=$target/release
if (( build )); then
  also=()
  for b in "$@"; do also+=(--bin "$b"); done
  (cd "$repo" && cargo build --release -q -p demos --bin hello -p benches --bin hyper-hello --bin fixed-response "${also[@]}") >&2 \
    || die "cargo build failed"
fi
server_bin() {
  case $1 in
    hyper) echo "$bin/hyper-hello" ;; ours) echo "$bin/hello" ;; fixed-response) echo "$bin/fixed-response" ;;
    *) return 1 ;;
  esac
}
IFS=, read -r -a names <<<"$servers"
for s in "${names[@]}"; do server_bin "$s" >/dev/null || die "unknown server: $s (hyper, ours, fixed-response)"; done
