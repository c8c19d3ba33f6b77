#!/usr/bin/env bash
# cpu-split.sh — where a saturated server's CPU time goes: kernel or user space, and which
# functions, sampled by `perf record -e cpu-clock` (this needs no hardware counters).
#
# For each round and each server in turn (hyper, ours, hyper, ours ...), it starts the
# server (one thread, pinned to CPU 1, as in load.sh), warms it up, then loads it with wrk
# (-t1, pinned to CPU 0) while perf samples the server process only, and reports the share
# of samples in the kernel, in the server's binary and in libc. A share is a ratio inside one
# process, so it holds when other processes slow the whole machine down; two servers that
# make the same system calls per request (benches/wakeups.sh shows ours and hyper do) spend
# about the same kernel time per request, and the ratio of their user-to-kernel shares is
# then the ratio of their user time per request.
#
# Usage: benches/cpu-split.sh [-c CONNS] [-d SECS] [-r ROUNDS] [-s LIST] [-n TOP] [-B]
#   -c CONNS  keep-alive connections (default 256)   -d SECS  sampled run (default 5)
#   -r N      rounds (default 3)                      -s LIST  servers (default hyper,ours)
#   -n TOP    also list the TOP user-space functions of the last round (default 0)
#   -B        do not build
#
# Needs perf (apt-get install linux-perf; root or perf_event_paranoid <= 0) and wrk.
# Everything it starts it stops, by pid, on exit. 127.0.0.1 only.
set -uo pipefail

die() { echo "cpu-split.sh: $*" >&2; exit 2; }
conns=256 dur=5 rounds=3 servers=hyper,ours top=0 build=1
while getopts 'c:d:r:s:n:Bh' opt; do
  case $opt in
    c) conns=$OPTARG ;; d) dur=$OPTARG ;; r) rounds=$OPTARG ;; s) servers=$OPTARG ;;
    n) top=$OPTARG ;; B) build=0 ;;
    h) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; *) exit 2 ;;
  esac
done
for n in "$conns" "$dur" "$rounds"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "not a positive number: $n"; done
[[ $top =~ ^[0-9]+$ ]] || die "-n wants a number"
command -v perf >/dev/null || die "perf not found (apt-get install linux-perf)"
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
source "$(dirname "$0")/servers.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/cpu-split.XXXXXX") || die "mktemp failed"
spid= prec=
stop_pid() {  # $1 pid, $2 signal: stop it and wait for it, bounded
  [[ -n $1 ]] || return 0
  kill "-$2" "$1" 2>/dev/null
  local i; for ((i = 0; i < 100; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null
}
cleanup() { stop_pid "$prec" INT; stop_pid "$spid" TERM; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
port_open() { timeout 1 bash -c ": <>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

results=()
one_run() {  # $1 round $2 server
  local name=$2 port=$((20000 + RANDOM % 12000)) tag="r$1.$2" exe
  exe=$(server_bin "$name")
  while port_open "$port"; do port=$((port + 1)); done
  taskset -c 1 "$exe" --addr "127.0.0.1:$port" --threads 1 >"$work/$tag.log" 2>&1 &
  spid=$!
  local k; for ((k = 0; k < 300; k++)); do port_open "$port" && break; sleep 0.05; done
  port_open "$port" || die "$name did not listen on $port"
  local url=http://127.0.0.1:$port/hello
  timeout 30 taskset -c 0 wrk -t1 -c"$conns" -d1s "$url" >/dev/null 2>&1
  perf record -q -e cpu-clock -F 1999 -p "$spid" -o "$work/$tag.data" >/dev/null 2>&1 &
  prec=$!
  sleep 0.3
  timeout $((dur + 30)) taskset -c 0 wrk -t1 -c"$conns" -d"${dur}s" "$url" >"$work/$tag.wrk" 2>&1
  stop_pid "$prec" INT; prec=
  stop_pid "$spid" TERM; spid=
  # Samples by object: the kernel, the server's binary, libc, the rest.
  local split; split=$(perf report -i "$work/$tag.data" --stdio -q --sort dso 2>/dev/null | awk -v exe="${exe##*/}" '
    { p = $1; sub(/%/, "", p); d = $2
      if (d ~ /kernel/) k += p; else if (d == exe) u += p; else if (d ~ /^libc/) c += p; else o += p }
    END { printf "%.1f %.1f %.1f %.1f", k, u, c, o }')
  results+=("$name $split")
  printf '[r%d %-5s] kernel %s%%  binary %s%%  libc %s%%  other %s%%  (%s)\n' "$1" "$name" $split \
    "$(awk '/ requests in / { print $1, "requests" }' "$work/$tag.wrk")" >&2
  if (( top > 0 && $1 == rounds )); then
    echo; echo "Top user-space functions of $name (round $1, % of all its samples):"; echo '```'
    perf report -i "$work/$tag.data" --stdio -q --sort sym 2>/dev/null | grep -F '[.]' | head -n "$top"
    echo '```'
  fi
}

echo "# cpu-split.sh $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- $conns keep-alive connections, wrk -t1 pinned to CPU 0, server --threads 1 pinned to CPU 1, ${dur}s sampled (cpu-clock, 1999 Hz) after 1s warm-up, $rounds rounds, servers alternated"
echo "- machine: $(grep -c '^cpu[0-9]' /proc/stat) CPUs, Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
  for s in "${names[@]}"; do one_run "$r" "$s"; done
done
echo
printf '%s\n' "${results[@]}" | awk -v names="${names[*]}" '
  function median(str,   x, m, i, j, t) { m = split(str, x, " ")
    for (i = 2; i <= m; i++) { t = x[i] + 0; for (j = i - 1; j >= 1 && x[j] + 0 > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
    return (m % 2) ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2 }
  { k[$1] = k[$1] " " $2; u[$1] = u[$1] " " ($3 + $4 + $5); r[$1] = r[$1] " " ($2 > 0 ? ($3 + $4 + $5) / $2 : 0) }
  END {
    ns = split(names, S, " "); h = median(r[S[1]])
    print "| server | kernel % of samples | user space % (binary, libc, other) | user ÷ kernel | ÷ " S[1] " |"
    print "|---|---:|---:|---:|---:|"
    for (i = 1; i <= ns; i++) { m = median(r[S[i]])
      printf "| %s | %.1f | %.1f | %.3f | %s |\n", S[i], median(k[S[i]]), median(u[S[i]]), m, (h > 0 ? sprintf("%.2f", m / h) : "NA") }
    print ""
    print "Medians over the rounds. With equal kernel work per request, the last column is the ratio of"
    print "user-space CPU time per request, and (1 + ours) / (1 + hyper) of the user ÷ kernel column the"
    print "ratio of all CPU time per request."
  }'
