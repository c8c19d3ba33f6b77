#!/usr/bin/env bash
# wakeups.sh — what the kernel sees per request: system calls, wake-ups, context switches.
#
# Counts, not times, so they hold on a busy machine. For each round and each server in turn
# (hyper, ours, hyper, ours ...), it starts the server (one thread, pinned to CPU 1, as in
# load.sh), warms it up with wrk, then loads it with wrk (-t1, pinned to CPU 0) while
# `perf stat -p PID` counts, in the server process only:
#
#   - every system call (raw_syscalls:sys_enter), and by name: epoll_wait, recvfrom (reads),
#     recvfrom that returned EAGAIN (a read that found nothing: WouldBlock), sendto/write/writev
#   - the software events: context-switches, cpu-migrations, page-faults, task-clock
#
# and `perf record` notes the return value of every epoll_wait: the events (ready sockets)
# each wake-up brought; /proc/PID/stat gives the server's user and system time. Each figure
# is divided by the requests wrk completed in that run. Prints a Markdown table with the
# figures and their ratio to hyper (medians over rounds). The epoll_wait name is x86-64's
# (where glibc's epoll_wait makes that system call); elsewhere it may be epoll_pwait.
#
# Usage: benches/wakeups.sh [-c CONNS] [-d SECS] [-r ROUNDS] [-q PCT] [-s LIST] [-B]
#   -c CONNS  keep-alive connections (default 256)   -d SECS  measured run (default 5)
#   -r N      rounds (default 3)                      -s LIST  servers (default hyper,ours)
#   -q PCT    saturate the server: it may use only PCT% of its core (a CPU cgroup with a CFS
#             quota of PCT ms per 100 ms), so that it always has more work than time, as a
#             server whose core is saturated does; while it is throttled every connection's
#             next request arrives, and it wakes up to all of them ready at once
#   -B        do not build
#
# Without -q, on 2 CPUs, wrk sets the pace and the server idles part of the time; the counts
# per request then describe a server with time to spare.
#
# Needs perf (apt-get install linux-perf) and root or perf_event_paranoid <= -1 for the
# tracepoints, and wrk. Everything it starts it stops, by pid, on exit. 127.0.0.1 only.
set -uo pipefail

die() { echo "wakeups.sh: $*" >&2; exit 2; }
conns=256 dur=5 rounds=3 servers=hyper,ours build=1 quota=
while getopts 'c:d:r:q:s:Bh' opt; do
  case $opt in
    c) conns=$OPTARG ;; d) dur=$OPTARG ;; r) rounds=$OPTARG ;; q) quota=$OPTARG ;; s) servers=$OPTARG ;; B) build=0 ;;
    h) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; *) exit 2 ;;
  esac
done
for n in "$conns" "$dur" "$rounds" ${quota:+"$quota"}; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "not a positive number: $n"; done
command -v perf >/dev/null || die "perf not found (apt-get install linux-perf)"
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1 \
  || die "perf cannot count system calls here (needs root or kernel.perf_event_paranoid=-1)"
source "$(dirname "$0")/servers.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/wakeups.XXXXXX") || die "mktemp failed"
spid= ppid_stat= ppid_rec= cgroup=
# The CPU cgroup of -q: cgroup v2 (cpu.max) or v1 (cpu.cfs_quota_us), created here, removed on exit.
if [[ -n $quota ]]; then
  (( quota < 100 )) || die "-q wants a percentage below 100"
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    cgroup=/sys/fs/cgroup/wakeups.$$
    mkdir "$cgroup" && echo "$((quota * 1000)) 100000" >"$cgroup/cpu.max" || die "cannot make a CPU cgroup (cgroup v2)"
  elif [[ -d /sys/fs/cgroup/cpu ]]; then
    cgroup=/sys/fs/cgroup/cpu/wakeups.$$
    mkdir "$cgroup" && echo 100000 >"$cgroup/cpu.cfs_period_us" && echo "$((quota * 1000))" >"$cgroup/cpu.cfs_quota_us" \
      || die "cannot make a CPU cgroup (cgroup v1)"
  else
    die "no CPU cgroup controller for -q"
  fi
fi
stop_pid() {  # $1 pid, $2 signal: stop it and wait for it, bounded
  [[ -n $1 ]] || return 0
  kill "-$2" "$1" 2>/dev/null
  local i; for ((i = 0; i < 100; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null
}
cleanup() {
  stop_pid "$ppid_stat" INT; stop_pid "$ppid_rec" INT; stop_pid "$spid" TERM; rm -rf "$work"
  [[ -n $cgroup ]] && rmdir "$cgroup" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
user_sys() {  # $1 pid -> "utime stime" in clock ticks, from /proc/PID/stat
  local l; read -r l <"/proc/$1/stat" || { echo "0 0"; return; }
  read -r -a f <<<"${l##*) }"; echo "${f[11]} ${f[12]}"
}
port_open() { timeout 1 bash -c ": <>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# The counted events, in this order; a filter follows the tracepoint it applies to.
events=(-e raw_syscalls:sys_enter -e syscalls:sys_enter_epoll_wait
  -e syscalls:sys_enter_recvfrom -e syscalls:sys_exit_recvfrom --filter 'ret == -11'
  -e syscalls:sys_enter_sendto -e syscalls:sys_enter_write -e syscalls:sys_enter_writev
  -e context-switches -e cpu-migrations -e page-faults -e task-clock)
labels=(syscalls epoll_wait recvfrom recvfrom_eagain sendto write writev
  context_switches cpu_migrations page_faults task_clock_ms)

one_run() {  # $1 round $2 server -> appends "server label value-per-request ..." to results
  local name=$2 port=$((20000 + RANDOM % 12000)) tag="r$1.$2"
  while port_open "$port"; do port=$((port + 1)); done
  taskset -c 1 "$(server_bin "$name")" --addr "127.0.0.1:$port" --threads 1 >"$work/$tag.log" 2>&1 &
  spid=$!
  if [[ -n $cgroup ]]; then echo "$spid" >"$cgroup/cgroup.procs" || die "cannot move the server into $cgroup"; fi
  local k; for ((k = 0; k < 300; k++)); do port_open "$port" && break; sleep 0.05; done
  port_open "$port" || die "$name did not listen on $port"
  local url=http://127.0.0.1:$port/hello
  timeout 30 taskset -c 0 wrk -t1 -c"$conns" -d1s "$url" >/dev/null 2>&1
  perf stat -x, -p "$spid" "${events[@]}" -o "$work/$tag.stat" 2>/dev/null &
  ppid_stat=$!
  perf record -q -e syscalls:sys_exit_epoll_wait -p "$spid" -o "$work/$tag.data" >/dev/null 2>&1 &
  ppid_rec=$!
  sleep 0.5  # perf attaches
  local t0 t1; t0=$(user_sys "$spid")
  timeout $((dur + 30)) taskset -c 0 wrk -t1 -c"$conns" -d"${dur}s" "$url" >"$work/$tag.wrk" 2>&1
  t1=$(user_sys "$spid")
  stop_pid "$ppid_stat" INT; ppid_stat=
  stop_pid "$ppid_rec" INT; ppid_rec=
  stop_pid "$spid" TERM; spid=
  local reqs; reqs=$(awk '/ requests in / { print $1 }' "$work/$tag.wrk")
  [[ -n $reqs ]] || die "wrk failed against $name: $(tail -3 "$work/$tag.wrk")"
  # The counts came from slightly more than wrk's run (perf attached first): the requests
  # served in that margin are none, since nothing else loads the server.
  local line="$name requests $reqs user_ticks $(( ${t1% *} - ${t0% *} )) sys_ticks $(( ${t1#* } - ${t0#* } ))" i=0 v
  while IFS=, read -r v _; do
    [[ $v =~ ^[0-9.]+$ ]] || v=0
    line+=" ${labels[i]} $v"; i=$((i + 1))
  done < <(grep -v '^#' "$work/$tag.stat" | grep -v '^$')
  # Events per epoll_wait: the sum and the count of its return values (ret > 0 woke with work).
  local ev; ev=$(perf script -i "$work/$tag.data" -F trace 2>/dev/null | python3 -c '
import sys
rets = [int(w, 0) for w in (l.split()[-1] for l in sys.stdin if l.strip()) if w.startswith("0x")]
woke = [r for r in rets if r > 0]
print(len(rets), len(woke), sum(woke))')
  read -r n_ep woke ev_sum <<<"$ev"
  line+=" epoll_returns $n_ep epoll_with_events $woke events $ev_sum"
  results+=("$line")
  printf '[r%d %-5s] %s\n' "$1" "$name" "$line" >&2
}

results=()
echo "# wakeups.sh $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- $conns keep-alive connections, wrk -t1 pinned to CPU 0, server --threads 1 pinned to CPU 1${quota:+ and limited to $quota% of it (CFS quota)}, ${dur}s per run after 1s warm-up, $rounds rounds, servers alternated"
echo "- machine: $(grep -c '^cpu[0-9]' /proc/stat) CPUs, Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for ((r = 1; r <= rounds; r++)); do
  for s in "${names[@]}"; do one_run "$r" "$s"; done
done
printf '%s\n' "${results[@]}" | awk -v names="${names[*]}" -v dur="$dur" -v hz="$(getconf CLK_TCK)" '
  function median(str,   x, m, i, j, t) { m = split(str, x, " ")
    for (i = 2; i <= m; i++) { t = x[i] + 0; for (j = i - 1; j >= 1 && x[j] + 0 > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
    return (m % 2) ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2 }
  {
    s = $1; delete f
    for (i = 2; i < NF; i += 2) f[$i] = $(i + 1)
    q = f["requests"]; if (q <= 0) next
    add(s, "requests (wrk, per run)", q)
    add(s, "system calls / request", f["syscalls"] / q)
    add(s, "epoll_wait / request", f["epoll_wait"] / q)
    add(s, "recvfrom / request", f["recvfrom"] / q)
    add(s, "recvfrom EAGAIN / request", f["recvfrom_eagain"] / q)
    add(s, "sendto+write+writev / request", (f["sendto"] + f["write"] + f["writev"]) / q)
    add(s, "context switches / request", f["context_switches"] / q)
    add(s, "cpu migrations / request", f["cpu_migrations"] / q)
    add(s, "page faults / request", f["page_faults"] / q)
    add(s, "server CPU µs / request", 1000 * f["task_clock_ms"] / q)
    add(s, "server user µs / request (ticks)", 1e6 * f["user_ticks"] / hz / q)
    add(s, "server system µs / request (ticks)", 1e6 * f["sys_ticks"] / hz / q)
    add(s, "server CPU busy (% of its core)", f["task_clock_ms"] / (10 * (dur + 0.5)))
    add(s, "requests / epoll_wait", f["epoll_wait"] > 0 ? q / f["epoll_wait"] : 0)
    add(s, "events / epoll_wait that returned some", f["epoll_with_events"] > 0 ? f["events"] / f["epoll_with_events"] : 0)
    add(s, "epoll_wait that returned 0 (%)", f["epoll_returns"] > 0 ? 100 * (f["epoll_returns"] - f["epoll_with_events"]) / f["epoll_returns"] : 0)
  }
  function add(s, k, v) { if (!(k in seen)) { seen[k] = 1; order[++nk] = k } val[s, k] = val[s, k] " " v }
  END {
    ns = split(names, S, " ")
    hdr = "| per request |"; sep = "|---|"
    for (i = 1; i <= ns; i++) { hdr = hdr " " S[i] " |"; sep = sep "---:|" }
    for (i = 2; i <= ns; i++) { hdr = hdr " " S[i] " ÷ " S[1] " |"; sep = sep "---:|" }
    print hdr; print sep
    for (k = 1; k <= nk; k++) {
      line = "| " order[k] " |"
      for (i = 1; i <= ns; i++) { m[i] = median(val[S[i], order[k]]); line = line sprintf(m[i] >= 100 ? " %.0f |" : " %.3f |", m[i]) }
      for (i = 2; i <= ns; i++) line = line (m[1] > 0 ? sprintf(" %.2f |", m[i] / m[1]) : " NA |")
      print line
    }
    print ""
    print "Medians over the rounds. The rows in µs and the busy row are times (perf task-clock, and the"
    print "user and system ticks of /proc/PID/stat): the other load of the machine moves them; the other rows"
    print "are counts. The µs rows include the cost of perf'"'"'s tracepoints on every system call."
  }'
