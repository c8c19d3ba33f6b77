#!/usr/bin/env bash
# Instructions per lookup of the modern mux, ours and matchit's, counted with
# valgrind's callgrind: the mux_patterns bench routes the 130 requests of
# routes.txt 0 and then N times (MUX_PATTERNS_LOOKUPS), and the difference
# of the two totals, divided by 130 N, is the cost of one request, setup
# excluded. A count does not swing with the machine's load as times do.
#
#   benches/go-patterns/instructions.sh        # N = 200: ours, ours storing no
#                                              # values (handler), matchit
#   benches/go-patterns/instructions.sh -k     # also keep the callgrind files
#                                              # (callgrind_annotate FILE) in ./instructions-out/
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
keep=0
[[ "${1:-}" == -k ]] && keep=1
rounds=200
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

bin="$(cd "$root" && cargo bench -p benches --bench mux_patterns --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "mux_patterns" and m.get("executable"):
        print(m["executable"])')"
out="$(mktemp -d)"
(( keep )) && out="$PWD/instructions-out" && mkdir -p "$out"
count() { # router rounds
  MUX_PATTERNS_ROUTER="$1" MUX_PATTERNS_LOOKUPS="$2" valgrind --tool=callgrind \
    --callgrind-out-file="$out/$1.$2" "$bin" 2>&1 | sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
}
echo "instructions per request (130 GitHub API routes, $rounds rounds;"
echo "handler: ours through PatternServeMux::handler, which stores no values):"
for router in ours handler matchit; do
  base="$(count "$router" 0)"
  total="$(count "$router" "$rounds")"
  echo "  $router: $(( (total - base) / (130 * rounds) ))"
done
(( keep )) && echo "callgrind outputs: $out/ours.$rounds and the others (callgrind_annotate FILE)"
(( keep )) || rm -rf "$out"
