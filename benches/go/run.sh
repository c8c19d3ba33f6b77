#!/usr/bin/env bash
# ServeMux lookup, side by side: ours (criterion), matchit (criterion) and,
# when Go is installed, Go 1.19's http.ServeMux (go test -bench), all on the
# route table and requests of benches/go/table.txt. Prints nanoseconds per
# lookup and allocations per lookup on the Go side (ours allocate nothing
# except for redirects: mux/tests/servemux.rs proves it).
#
#   benches/go/run.sh              # from anywhere; extra args go to criterion
#
# Needs: cargo, python3; go (optional: without it only the Rust side runs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
go_out="$(mktemp)"
trap 'rm -f "$go_out"' EXIT

echo "== cargo bench -p benches --bench mux (ours and matchit)" >&2
(cd "$root" && cargo bench -p benches --bench mux -- --noplot "$@" >&2)

if command -v go >/dev/null 2>&1; then
  echo "== go test -bench (Go $(go env GOVERSION) http.ServeMux)" >&2
  (cd "$here" && go test -run '^$' -bench . -benchmem -benchtime 2s | tee "$go_out" >&2)
else
  echo "go is not installed: showing the Rust side only (apt-get install golang-go)" >&2
fi

python3 - "$target_dir/criterion/mux_lookup" "$go_out" <<'PY'
import json, os, re, sys
crit_dir, go_file = sys.argv[1], sys.argv[2]

def criterion(impl, case):
    path = os.path.join(crit_dir, impl, case, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["mean"]["point_estimate"]
    except OSError:
        return None

go = {}
for line in open(go_file):
    m = re.match(r"BenchmarkLookup/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+(\d+) B/op\s+(\d+) allocs/op)?", line)
    if m:
        go[m.group(1)] = (float(m.group(2)), m.group(4))

cases = ["exact", "subtree", "deep_subtree", "host", "host_exact", "miss", "slash_redirect", "clean_redirect"]
fmt = lambda v: "-" if v is None else "%.1f" % v
print("%-15s %10s %10s %10s %10s %12s" % ("lookup", "ours ns", "matchit ns", "go ns", "go allocs", "go / ours"))
for case in cases:
    ours = criterion("ours", case)
    mt = criterion("matchit", case)
    g, allocs = go.get(case, (None, None))
    ratio = "-" if (g is None or not ours) else "%.2fx" % (g / ours)
    print("%-15s %10s %10s %10s %10s %12s" % (case, fmt(ours), fmt(mt), fmt(g), allocs or "-", ratio))
PY
