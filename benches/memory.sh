#!/usr/bin/env bash
# memory.sh — what an idle keep-alive connection costs: ours against hyper (and Go), in bytes.
#
# For each server in turn (A B C, then again for each round): start it (one thread, as in
# load.sh), send one request, read its resident memory (VmRSS); then open N connections
# (benches --bin idle-conns), send one GET /hello on each and keep them all open and idle;
# read VmRSS again. (after - before) / N is the memory per idle connection. 127.0.0.1 only.
#
# Usage: benches/memory.sh [-n CONNS] [-r ROUNDS] [-s LIST] [-B]
#   -n CONNS  idle connections (default 10000)   -r N  rounds (default 2)
#   -s LIST   servers (default hyper,ours and go when Go is installed)   -B  do not build
#
# The open-file limit is raised for the server and the client (each needs CONNS + a few
# descriptors): the script's soft limit is lifted to its hard limit, and it stops with a
# message when even that is too low. Everything it starts it stops, by pid, on exit.
set -uo pipefail

die() { echo "memory.sh: $*" >&2; exit 2; }
conns=10000 rounds=2 servers= build=1
while getopts 'n:r:s:Bh' opt; do
  case $opt in
    n) conns=$OPTARG ;; r) rounds=$OPTARG ;; s) servers=$OPTARG ;; B) build=0 ;;
    h) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; *) exit 2 ;;
  esac
done
[[ $conns =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ ]] && (( conns > 0 && rounds > 0 )) || die "-n and -r want positive numbers"
repo=$(cd "$(dirname "$0")/.." && pwd)

# The fd limit: each process holds CONNS sockets plus a few.
need=$((conns + 64))
hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && (( hard < need )); then
  die "open-file hard limit $hard < $need: raise it (as root: ulimit -Hn $need) or use -n"
fi
ulimit -Sn "$( [[ $hard == unlimited ]] && echo "$need" || echo "$hard")" || die "cannot raise the open-file limit"

target=${CARGO_TARGET_DIR:-$(cd "$repo" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}
bin=$target/release
if (( build )); then
  echo "memory.sh: building release binaries into $bin" >&2
  (cd "$repo" && cargo build --release -q -p demos --bin hello -p benches --bin hyper-hello --bin idle-conns) >&2 \
    || die "cargo build failed"
fi
have_go=0
if command -v go >/dev/null; then
  have_go=1
  if (( build )); then
    (cd "$repo/benches/go-hello" && go build -o "$bin/go-hello" .) >&2 || die "go build failed"
  fi
fi
[[ -n $servers ]] || { servers=hyper,ours; (( have_go )) && servers+=,go; }
IFS=, read -r -a names <<<"$servers"
server_cmd() {
  case $1 in
    hyper) echo "$bin/hyper-hello --addr 127.0.0.1:$2 --threads 1" ;;
    ours) echo "$bin/hello --addr 127.0.0.1:$2 --threads 1" ;;
    go) echo "$bin/go-hello -addr 127.0.0.1:$2" ;;
    *) return 1 ;;
  esac
}
for s in "${names[@]}"; do server_cmd "$s" 1 >/dev/null || die "unknown server: $s"; done
[[ -x $bin/idle-conns ]] || die "not built: $bin/idle-conns"

spid= cpid= results=()
stop() {  # stop the client (close its stdin, then by pid) and the server, by pid
  if [[ -n $cpid ]]; then
    exec {client_in}>&-
    local i; for ((i = 0; i < 100; i++)); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null; cpid=
  fi
  if [[ -n $spid ]]; then
    kill -TERM "$spid" 2>/dev/null
    local i; for ((i = 0; i < 60; i++)); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; spid=
  fi
}
trap stop EXIT
trap 'exit 130' INT TERM
port_open() { timeout 1 bash -c ": <>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
one_request() {
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; printf 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3; cat <&3" \
    | grep -q 'Hello, World!'
}

measure() {  # $1 server name -> appends "name before after" to results
  local name=$1 port=$((20000 + RANDOM % 12000))
  while port_open "$port"; do port=$((port + 1)); done
  # shellcheck disable=SC2046
  $(server_cmd "$name" "$port") >/dev/null 2>&1 &
  spid=$!
  local k; for ((k = 0; k < 300; k++)); do port_open "$port" && break; sleep 0.05; done
  one_request "$port" || die "$name did not answer GET /hello"
  sleep 0.5
  local before; before=$(rss "$spid")
  local fifo; fifo=$(mktemp -u "${TMPDIR:-/tmp}/memory.XXXXXX")
  mkfifo "$fifo" || die "mkfifo failed"
  "$bin/idle-conns" --addr "127.0.0.1:$port" --conns "$conns" --hold 300 <"$fifo" >"$fifo.out" 2>&1 &
  cpid=$!
  exec {client_in}>"$fifo"   # the client holds its connections until this closes
  rm -f "$fifo"
  for ((k = 0; k < 1200; k++)); do  # 120 s
    grep -q '^ready' "$fifo.out" 2>/dev/null && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q '^ready' "$fifo.out" || { cat "$fifo.out" >&2; rm -f "$fifo.out"; die "idle-conns failed against $name"; }
  rm -f "$fifo.out"
  sleep 1  # let the server finish the last responses
  local after; after=$(rss "$spid")
  kill -0 "$spid" 2>/dev/null || die "$name died holding $conns connections"
  stop
  results+=("$name $before $after")
  printf '[%-5s] RSS before %6d KiB, with %d idle connections %7d KiB: %5d bytes per connection\n' \
    "$name" "$before" "$conns" "$after" $(((after - before) * 1024 / conns)) >&2
}

echo "# memory.sh $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- $conns idle keep-alive connections (one GET /hello served on each), $rounds rounds, servers alternated; one server thread each"
for s in "${names[@]}"; do echo "- $s: \`$(server_cmd "$s" PORT)\`"; done
echo
for ((r = 1; r <= rounds; r++)); do
  for name in "${names[@]}"; do measure "$name"; done
done
printf '%s\n' "${results[@]}" | awk -v n="$conns" -v names="${names[*]}" '
  { per = ($3 - $2) * 1024 / n; s[$1] = s[$1] " " per; b[$1] = $2; a[$1] = $3 }
  function median(str,   x, m, i, j, t) { m = split(str, x, " ")
    for (i = 2; i <= m; i++) { t = x[i] + 0; for (j = i - 1; j >= 1 && x[j] + 0 > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
    return (m % 2) ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2 }
  END {
    k = split(names, S, " "); h = median(s["hyper"])
    print "| server | RSS before KiB | RSS with " n " idle conns KiB | bytes per idle connection (median) | ÷ hyper |"
    print "|---|---:|---:|---:|---:|"
    for (i = 1; i <= k; i++) { m = median(s[S[i]])
      printf "| %s | %d | %d | %.0f | %s |\n", S[i], b[S[i]], a[S[i]], m, (h > 0 ? sprintf("%.2f", m / h) : "NA") }
    print ""
    print "RSS columns: the last round. Bytes per connection: median over the rounds of (after - before) × 1024 / " n "."
  }'
