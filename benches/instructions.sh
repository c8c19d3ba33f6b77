#!/usr/bin/env bash
# instructions.sh — CPU instructions per request, ours against hyper, counted by valgrind.
#
# Wall-clock benchmarks on a small shared machine are noisy; an instruction count is not. Each
# server runs under `valgrind --tool=callgrind` (one thread, as in load.sh) and the client
# `benches --bin fixed-load` sends it a fixed number of requests, twice: N1 then N2 requests
# on fresh servers. (Ir(N2) - Ir(N1)) / (N2 - N1) is the user-space instructions of one
# request, start-up and shutdown excluded. The kernel's share (the socket calls, the same for
# both servers: one read and one write per request) is not counted, so this ratio is larger
# than the ratio of CPU time.
#
# Usage: benches/instructions.sh [-c CONNS] [-s LIST] [-k] [-B] [-- fixed-load options]
#   -c CONNS  keep-alive connections (default 64)
#   -s LIST   servers (default hyper,ours)
#   -k        keep the callgrind outputs (for callgrind_annotate) in ./instructions-out/
#   -B        do not build
#   after --:  more fixed-load options, e.g. -- --close (one request per connection)
#
# Needs valgrind (apt-get install valgrind); exits 0 with a message when it is missing.
set -uo pipefail

die() { echo "instructions.sh: $*" >&2; exit 2; }
conns=64 servers=hyper,ours keep=0 build=1 n1=2000 n2=12000
while getopts 'c:s:kBh' opt; do
  case $opt in
    c) conns=$OPTARG ;; s) servers=$OPTARG ;; k) keep=1 ;; B) build=0 ;;
    h) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
extra=("$@")
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not installed (apt-get install valgrind): skipped"; exit 0; }
repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$(cd "$repo" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}
bin=$target/release
if (( build )); then
  (cd "$repo" && cargo build --release -q -p demos --bin hello -p benches --bin hyper-hello --bin fixed-load) >&2 \
    || die "cargo build failed"
fi
server_bin() { case $1 in hyper) echo "$bin/hyper-hello" ;; ours) echo "$bin/hello" ;; *) return 1 ;; esac; }
IFS=, read -r -a names <<<"$servers"
for s in "${names[@]}"; do server_bin "$s" >/dev/null || die "unknown server: $s (hyper, ours)"; done
if (( keep )); then out=$PWD/instructions-out; mkdir -p "$out"; else out=$(mktemp -d); fi
vpid=
cleanup() {
  if [[ -n $vpid ]]; then kill -TERM "$vpid" 2>/dev/null; wait "$vpid" 2>/dev/null; fi
  (( keep )) || rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
port_open() { timeout 1 bash -c ": <>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

count() {  # $1 server, $2 requests -> total Ir
  local port=$((20000 + RANDOM % 12000)) file=$out/$1.$2.callgrind
  while port_open "$port"; do port=$((port + 1)); done
  valgrind --tool=callgrind --callgrind-out-file="$file" "$(server_bin "$1")" \
    --addr "127.0.0.1:$port" --threads 1 >"$out/$1.$2.log" 2>&1 &
  vpid=$!
  local k; for ((k = 0; k < 600; k++)); do port_open "$port" && break; sleep 0.1; done
  timeout 600 "$bin/fixed-load" --addr "127.0.0.1:$port" --conns "$conns" --requests "$2" "${extra[@]}" >&2 \
    || die "fixed-load failed against $1"
  kill -TERM "$vpid"; wait "$vpid" 2>/dev/null; vpid=
  awk '/^summary:/ { print $2 }' "$file"
}

echo "# instructions.sh $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- user-space instructions per request (valgrind callgrind), $conns connections ${extra[*]}, requests $n1 then $n2"
echo
echo "| server | instructions per request | ÷ hyper |"
echo "|---|---:|---:|"
declare -A per
for s in "${names[@]}"; do
  a=$(count "$s" "$n1"); b=$(count "$s" "$n2")
  [[ -n $a && -n $b ]] || die "no count for $s"
  per[$s]=$(( (b - a) / (n2 - n1) ))
done
for s in "${names[@]}"; do
  h=${per[hyper]:-0}
  printf '| %s | %d | %s |\n' "$s" "${per[$s]}" "$( (( h > 0 )) && awk -v a="${per[$s]}" -v b="$h" 'BEGIN { printf "%.2f", a / b }' || echo NA)"
done
(( keep )) && echo && echo "callgrind outputs: $out (callgrind_annotate FILE)"
exit 0
