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
# Usage: benches/instructions.sh [-c CONNS] [-s LIST] [-C] [-k] [-B] [-- fixed-load options]
#   -c CONNS  keep-alive connections (default 64)
#   -C        also simulate the caches (callgrind --cache-sim=yes: valgrind's model of the
#             machine's L1 and last-level caches): misses per request, instruction fetch (I1),
#             data reads and writes (D1), and the last level (LL). Three times slower.
#   -s LIST   servers (default hyper,ours; also fixed-response, the parse-free ceiling)
#   -k        keep the callgrind outputs (for callgrind_annotate) in ./instructions-out/
#   -T        over TLS: servers started with --tls, fixed-load --tls (with -- --close: one TLS
#             handshake per request, and ten times fewer requests, since valgrind makes each slow)
#   -B        do not build
#   after --:  more fixed-load options, e.g. -- --close (one request per connection)
#
# Needs valgrind (apt-get install valgrind); exits 0 with a message when it is missing.
set -uo pipefail

die() { echo "instructions.sh: $*" >&2; exit 2; }
conns=64 servers=hyper,ours keep=0 build=1 n1=2000 n2=12000 cache=no tls=()
while getopts 'c:s:CkTBh' opt; do
  case $opt in
    c) conns=$OPTARG ;; s) servers=$OPTARG ;; C) cache=yes ;; k) keep=1 ;; B) build=0 ;; T) tls=(--tls) ;;
    h) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
extra=("$@")
if (( ${#tls[@]} )) && [[ " ${extra[*]} " == *" --close "* ]]; then n1=200 n2=1200; fi
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not installed (apt-get install valgrind): skipped"; exit 0; }
source "$(dirname "$0")/servers.sh" fixed-load
if (( keep )); then out=$PWD/instructions-out; mkdir -p "$out"; else out=$(mktemp -d); fi
vpid=
cleanup() {
  if [[ -n $vpid ]]; then kill -TERM "$vpid" 2>/dev/null; wait "$vpid" 2>/dev/null; fi
  (( keep )) || rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
port_open() { timeout 1 bash -c ": <>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

count() {  # $1 server, $2 requests -> "Ir I1mr D1mr D1mw ILmr DLmr DLmw" totals (misses 0 without -C)
  local port=$((20000 + RANDOM % 12000)) file=$out/$1.$2.callgrind
  while port_open "$port"; do port=$((port + 1)); done
  valgrind --tool=callgrind --cache-sim="$cache" --callgrind-out-file="$file" "$(server_bin "$1")" \
    --addr "127.0.0.1:$port" --threads 1 "${tls[@]}" >"$out/$1.$2.log" 2>&1 &
  vpid=$!
  local k; for ((k = 0; k < 600; k++)); do port_open "$port" && break; sleep 0.1; done
  timeout 600 "$bin/fixed-load" --addr "127.0.0.1:$port" --conns "$conns" --requests "$2" "${tls[@]}" "${extra[@]}" >&2 \
    || die "fixed-load failed against $1"
  kill -TERM "$vpid"; wait "$vpid" 2>/dev/null; vpid=
  awk '/^events:/ { for (i = 2; i <= NF; i++) col[$i] = i }
       /^summary:/ { for (i = 2; i <= NF; i++) v[i] = $i
         printf "%s", v[col["Ir"]]
         n = split("I1mr D1mr D1mw ILmr DLmr DLmw", e, " ")
         for (i = 1; i <= n; i++) printf " %d", (e[i] in col) ? v[col[e[i]]] : 0
         print "" }' "$file"
}

echo "# instructions.sh $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- user-space instructions per request (valgrind callgrind), $conns connections ${tls[*]} ${extra[*]}, requests $n1 then $n2"
echo
declare -A per i1 d1 ll
for s in "${names[@]}"; do
  read -r -a a < <(count "$s" "$n1"); read -r -a b < <(count "$s" "$n2")
  (( ${#a[@]} == 7 && ${#b[@]} == 7 )) || die "no count for $s"
  d=$((n2 - n1))
  per[$s]=$(( (b[0] - a[0]) / d ))
  i1[$s]=$(awk -v x="$((b[1] - a[1]))" -v d="$d" 'BEGIN { printf "%.1f", x / d }')
  d1[$s]=$(awk -v x="$((b[2] + b[3] - a[2] - a[3]))" -v d="$d" 'BEGIN { printf "%.1f", x / d }')
  ll[$s]=$(awk -v x="$((b[4] + b[5] + b[6] - a[4] - a[5] - a[6]))" -v d="$d" 'BEGIN { printf "%.2f", x / d }')
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "NA" }'; }
if [[ $cache == yes ]]; then
  echo "| server | instructions per request | ÷ hyper | I1 misses | D1 misses | ÷ hyper | LL misses | ÷ hyper |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
else
  echo "| server | instructions per request | ÷ hyper |"
  echo "|---|---:|---:|"
fi
for s in "${names[@]}"; do
  line="| $s | ${per[$s]} | $(ratio "${per[$s]}" "${per[hyper]:-0}") |"
  [[ $cache == yes ]] && line+=" ${i1[$s]} | ${d1[$s]} | $(ratio "${d1[$s]}" "${d1[hyper]:-0}") | ${ll[$s]} | $(ratio "${ll[$s]}" "${ll[hyper]:-0}") |"
  echo "$line"
done
[[ $cache == yes ]] && echo && echo "Misses per request: callgrind's simulated caches (I1, D1: first level; LL: last level, instruction and data)."
(( keep )) && echo && echo "callgrind outputs: $out (callgrind_annotate FILE)"
exit 0
