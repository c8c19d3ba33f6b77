#!/usr/bin/env bash
# load.sh — wrk load comparison of our hello server against hyper's (and Go's), as ratios.
#
# Builds release binaries of our hello (`demos --bin hello`) and of a hyper 1.x hello
# (`benches --bin hyper-hello`), and of Go 1.19's net/http hello (benches/go-hello) when `go`
# is installed; installs wrk with apt-get when it is missing. Then, for each round, each
# profile and each server in turn (A B C A B C ...: drift and foreign load hit all alike), it
# starts the server, checks GET /hello, warms it up, loads it with wrk, reads its CPU time and
# peak RSS, and stops it. Prints a Markdown table with the ratios to hyper.
#
# Usage: benches/load.sh [options]
#   -d SECS   measured wrk run (default 8)        -w SECS  warm-up run before it (default 1)
#   -r N      rounds (default 3)
#   -p LIST   profiles (default ka64,ka256,close):
#               kaN     keep-alive, N connections
#               close   `Connection: close` on 64 connections: one accept per request
#               tls-kaN, tls-close  the same over https (a self-signed certificate each server
#                       makes at start, `--tls`; rustls on both, same provider): keep-alive
#                       requests over TLS, and one TLS handshake per request. Go is left out.
#   -m MODE   pin (default): server on CPU 1, wrk on CPU 0 (taskset); unpin: no taskset
#   -q SECS   wait up to SECS for a quiet machine (< 20% busy) before each run (default 30)
#   -R N      redo a noisy run up to N times (default 1)
#   -s LIST   servers (default hyper,ours and go when Go is installed); hyper comes first
#   -B        do not build (use the binaries already built)
#   -o DIR    keep wrk outputs, server logs and runs.tsv in DIR
#
# Every server runs with one thread (`--threads 1`: a current-thread tokio runtime for both
# Rust servers; Go's GOMAXPROCS is 1 under taskset), pinned to one CPU, so that they are a
# fair match. On a 2-CPU machine wrk then has the other CPU, and against a fast server wrk
# itself is the limit (its CPU near 100%): req/s cannot show a server faster than the
# client; requests per server CPU-second (req/s divided by the server's CPU use) can.
#
# A run is noisy when the machine was busy before it or when, during it, CPU time spent
# outside the server and wrk (other processes) reached 10% of all CPUs. Only ratios from the
# same run of this script compare. Every wait is bounded; servers are stopped by pid; nothing
# is left running (trap on exit).
set -uo pipefail

die() { echo "load.sh: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; }

dur=8 warm=1 rounds=3 profiles=ka64,ka256,close mode=pin quiet_wait=30 retries=1
servers= build=1 outdir=
busy_limit=20 foreign_limit=10 srv_cpu=1 wrk_cpu=0
while getopts 'd:w:r:p:m:q:R:s:Bo:h' opt; do
  case $opt in
    d) dur=$OPTARG ;; w) warm=$OPTARG ;; r) rounds=$OPTARG ;; p) profiles=$OPTARG ;;
    m) mode=$OPTARG ;; q) quiet_wait=$OPTARG ;; R) retries=$OPTARG ;; s) servers=$OPTARG ;;
    B) build=0 ;; o) outdir=$OPTARG ;; h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
  esac
done
for n in "$dur" "$warm" "$rounds" "$quiet_wait" "$retries"; do
  [[ $n =~ ^[0-9]+$ ]] || die "not a whole number: $n"
done
(( dur > 0 && rounds > 0 )) || die "-d and -r must be positive"
[[ $mode == pin || $mode == unpin ]] || die "-m is pin or unpin"
[[ -n ${EPOCHREALTIME:-} ]] || die "needs bash 5"
repo=$(cd "$(dirname "$0")/.." && pwd)

# --- tools ---------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  echo "load.sh: wrk not found; installing it with apt-get" >&2
  sudo=; (( EUID == 0 )) || sudo=sudo
  $sudo apt-get install -y wrk >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y wrk >&2; } \
    || die "could not install wrk (apt-get install wrk)"
fi
if [[ $mode == pin ]]; then
  command -v taskset >/dev/null || die "taskset not found (util-linux)"
  taskset -c "$srv_cpu" true 2>/dev/null && taskset -c "$wrk_cpu" true 2>/dev/null \
    || die "cannot pin to CPUs $srv_cpu and $wrk_cpu (needs 2 CPUs; try -m unpin)"
fi

# --- build ----------------------------------------------------------------------------------
target=${CARGO_TARGET_DIR:-$(cd "$repo" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}
[[ -n $target ]] || die "cannot find cargo's target directory"
bin=$target/release
if (( build )); then
  echo "load.sh: building release binaries into $bin" >&2
  (cd "$repo" && cargo build --release -q -p demos --bin hello -p benches --bin hyper-hello) >&2 \
    || die "cargo build failed"
fi
have_go=0
if command -v go >/dev/null; then
  have_go=1
  if (( build )); then
    (cd "$repo/benches/go-hello" && GOFLAGS=-mod=mod go build -o "$bin/go-hello" .) >&2 \
      || die "go build of benches/go-hello failed"
  fi
else
  echo "load.sh: Go not installed: measuring ours and hyper only" >&2
fi
[[ -n $servers ]] || { servers=hyper,ours; (( have_go )) && servers+=,go; }
IFS=, read -r -a names <<<"$servers"
IFS=, read -r -a plist <<<"$profiles"
server_cmd() {  # $1 name $2 port [$3 profile: a tls-* profile adds --tls]
  local tls=; [[ ${3:-} == tls-* ]] && tls=' --tls'
  case $1 in
    hyper) echo "$bin/hyper-hello --addr 127.0.0.1:$2 --threads 1$tls" ;;
    ours) echo "$bin/hello --addr 127.0.0.1:$2 --threads 1$tls" ;;
    go) echo "$bin/go-hello -addr 127.0.0.1:$2" ;;
    *) return 1 ;;
  esac
}
for s in "${names[@]}"; do
  server_cmd "$s" 1 >/dev/null || die "unknown server: $s (hyper, ours, go)"
  read -r exe _ < <(server_cmd "$s" 1); [[ -x $exe ]] || die "not built: $exe"
done
wrk_args() {  # $1 profile -> wargs, the connection arguments of wrk
  # (wrk drops a header written without the space after the colon)
  case ${1#tls-} in
    ka[0-9]*) local n=${1#tls-}; n=${n#ka}; [[ $n =~ ^[0-9]+$ ]] && wargs=("-c$n") ;;
    close) wargs=(-c64 -H 'Connection: close') ;;
    *) return 1 ;;
  esac
}
for p in "${plist[@]}"; do wrk_args "$p" || die "unknown profile: $p"; done

# --- work dir and cleanup ---------------------------------------------------------------------
if [[ -n $outdir ]]; then mkdir -p "$outdir" || die "cannot create $outdir"; work=$outdir; keep=1
else work=$(mktemp -d "${TMPDIR:-/tmp}/load.XXXXXX") || die "mktemp failed"; keep=0; fi
tsv=$work/runs.tsv
printf 'round\tprofile\tserver\tkept\trps\tp99_ms\terrors\thwm_kib\tbusy_pct\tforeign_pct\tsrv_cpu_pct\twrk_cpu_pct\n' >"$tsv"
spid=
stat_fields() { local l; read -r l 2>/dev/null <"/proc/$1/stat" || return 1; read -r -a sf <<<"${l##*) }"; }
alive() { stat_fields "$1" && [[ ${sf[0]} != Z ]]; }
cpu_ticks() { if stat_fields "$1"; then echo $((sf[11] + sf[12])); else echo 0; fi; }
child_ticks() { if stat_fields $$; then echo $((sf[13] + sf[14])); else echo 0; fi; }
stop_server() {
  [[ -n $spid ]] || return 0
  kill -TERM "$spid" 2>/dev/null
  local i; for ((i = 0; i < 60; i++)); do alive "$spid" || break; sleep 0.05; done
  alive "$spid" && kill -KILL "$spid" 2>/dev/null
  wait "$spid" 2>/dev/null; spid=
}
cleanup() { stop_server; (( keep )) || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- measuring helpers ----------------------------------------------------------------------
ncpu=$(grep -c '^cpu[0-9]' /proc/stat)
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
port_open() { timeout 1 bash -c ": <>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
pick_port() { port=$((20000 + RANDOM % 12000)); while port_open "$port"; do port=$((port + 1)); done; }
machine() { local a; read -r -a a </proc/stat; echo $((a[1]+a[2]+a[3]+a[6]+a[7]+a[8])) $((a[1]+a[2]+a[3]+a[4]+a[5]+a[6]+a[7]+a[8])); }
busy_pct() { local b0 t0 b1 t1; read -r b0 t0 < <(machine); sleep 0.5; read -r b1 t1 < <(machine)
  if (( t1 > t0 )); then echo $((100 * (b1 - b0) / (t1 - t0))); else echo 0; fi; }
wait_quiet() { local end=$((SECONDS + quiet_wait)) b
  while :; do b=$(busy_pct); if (( b < busy_limit || SECONDS >= end )); then echo "$b"; return; fi; done; }
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status" 2>/dev/null; }
check_hello() {  # $1 port [$2 scheme]: GET /hello answers 200 and the greeting (curl when present, else bash)
  local reply scheme=${2:-http}
  if command -v curl >/dev/null; then
    reply=$(curl -sk --max-time 3 -w ' %{http_code}' "$scheme://127.0.0.1:$1/hello") || return 1
    [[ $reply == 'Hello, World! 200' ]]
  else
    reply=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; printf 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3; cat <&3") || return 1
    [[ $reply == 'HTTP/1.1 200'* && $reply == *'Hello, World!' ]]
  fi
}
parse_wrk() {  # -> rps p99_ms errors
  awk 'function ms(v,  n, u) { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
         if (u == "us") return n / 1000; if (u == "s") return n * 1000; if (u == "m") return n * 60000; return n }
       /^Requests\/sec:/ { rps = $2 }  $1 == "99%" { p99 = ms($2) }
       /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
       /Non-2xx or 3xx responses:/ { err += $5 }
       END { if (rps == "") print "NA NA NA"; else printf "%s %.3f %d\n", rps, p99, err }' "$1"
}

# one_run ROUND PROFILE SERVER ATTEMPT -> appends a line to runs.tsv; fails when noisy
one_run() {
  local r=$1 prof=$2 name=$3 att=$4 tag="r$1.$2.$3.a$4" pin_srv=() pin_wrk=()
  [[ $mode == pin ]] && pin_srv=(taskset -c "$srv_cpu") pin_wrk=(taskset -c "$wrk_cpu")
  local busy; busy=$(wait_quiet)
  pick_port
  local cmd; cmd=$(server_cmd "$name" "$port" "$prof")
  local scheme=http; [[ $prof == tls-* ]] && scheme=https
  # shellcheck disable=SC2086
  "${pin_srv[@]}" $cmd >"$work/$tag.log" 2>&1 &
  spid=$!
  local k; for ((k = 0; k < 300; k++)); do alive "$spid" || break; port_open "$port" && break; sleep 0.05; done
  port_open "$port" || { tail -5 "$work/$tag.log" >&2; die "$name did not listen on $port within 15 s"; }
  check_hello "$port" "$scheme" || die "$name did not answer GET /hello with 200 Hello, World!"
  local url=$scheme://127.0.0.1:$port/hello wargs
  wrk_args "$prof"
  (( warm > 0 )) && timeout -k 5 $((warm + 20)) "${pin_wrk[@]}" wrk -t1 "${wargs[@]}" -d"${warm}s" \
    --timeout 2s "$url" >/dev/null 2>&1
  local b0 t0 b1 t1 s0 s1 c0 c1 w0 w1
  read -r b0 t0 < <(machine); s0=$(cpu_ticks "$spid"); c0=$(child_ticks); w0=${EPOCHREALTIME/./}
  timeout -k 5 $((dur + 20)) "${pin_wrk[@]}" wrk -t1 "${wargs[@]}" -d"${dur}s" --latency \
    --timeout 2s "$url" >"$work/$tag.wrk" 2>&1
  w1=${EPOCHREALTIME/./}; read -r b1 t1 < <(machine); s1=$(cpu_ticks "$spid"); c1=$(child_ticks)
  local hwm; hwm=$(kib VmHWM "$spid")
  alive "$spid" || die "$name died under load (log: $work/$tag.log)"
  stop_server
  local el=$(((w1 - w0) * hz / 1000000)); (( el > 0 )) || el=1
  local srv=$((s1 - s0)) wrk=$((c1 - c0)); local foreign=$((b1 - b0 - srv - wrk)); (( foreign > 0 )) || foreign=0
  local srvp=$((100 * srv / el)) wrkp=$((100 * wrk / el)) forp=$((100 * foreign / (el * ncpu)))
  local rps p99 errs; read -r rps p99 errs < <(parse_wrk "$work/$tag.wrk")
  [[ $rps == NA ]] && die "wrk failed against $name: $(tail -3 "$work/$tag.wrk")"
  local noisy=0; (( busy >= busy_limit || forp >= foreign_limit )) && noisy=1
  local kept=1; (( noisy && att <= retries )) && kept=0
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$prof" "$name" "$kept" "$rps" "$p99" \
    "$errs" "${hwm:-0}" "$busy" "$forp" "$srvp" "$wrkp" >>"$tsv"
  printf '[r%d/%d %-6s %-6s] %9s req/s  p99 %7s ms  err %-3s  peak %6s KiB  cpu server %3d%% wrk %3d%%  busy before %2d%%  foreign %2d%%%s\n' \
    "$r" "$rounds" "$prof" "$name" "$rps" "$p99" "$errs" "${hwm:-NA}" "$srvp" "$wrkp" "$busy" "$forp" \
    "$( (( !kept )) && echo '  noisy: again')" >&2
  (( kept ))
}

# --- runs -------------------------------------------------------------------------------------
nruns=$((rounds * ${#plist[@]} * ${#names[@]}))
echo "load.sh: $nruns runs of about $((dur + warm + 2)) s, about $(( (nruns * (dur + warm + 2) + 59) / 60 )) min on a quiet machine" >&2
echo "# load.sh $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $ncpu CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)"
if [[ $mode == pin ]]; then
  echo "- pinned: every server on CPU $srv_cpu, wrk on CPU $wrk_cpu (taskset); servers run one thread"
else
  echo "- not pinned: the kernel shares all CPUs between server and wrk; servers run one thread"
fi
echo "- load: $(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }') -t1, ${dur}s measured after ${warm}s warm-up, --timeout 2s; $rounds rounds, servers alternated in each; close = 64 connections with \`Connection: close\`"
for s in "${names[@]}"; do echo "- $s: \`$(server_cmd "$s" PORT)\`"; done
echo
for ((r = 1; r <= rounds; r++)); do
  for prof in "${plist[@]}"; do
    for name in "${names[@]}"; do
      [[ $name == go && $prof == tls-* ]] && continue  # go-hello serves plain http only
      for ((att = 1; ; att++)); do one_run "$r" "$prof" "$name" "$att" && break; done
    done
  done
done

# --- table ------------------------------------------------------------------------------------
awk -F'\t' -v profs="${plist[*]}" -v names="${names[*]}" '
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " "); if (n == 0) return 0
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "NA" }
  NR == 1 || $4 == 0 { next }
  { k = $2 SUBSEP $3; rps[k] = rps[k] " " $5; p99[k] = p99[k] " " $6; err[k] += $7
    if ($8 + 0 > hwm[k]) hwm[k] = $8 + 0
    if (lo[k] == "" || $5 + 0 < lo[k]) lo[k] = $5 + 0; if ($5 + 0 > hi[k]) hi[k] = $5 + 0
    scpu[k] = scpu[k] " " $11; wcpu[k] = wcpu[k] " " $12; if ($11 > 0) eff[k] = eff[k] " " 100 * $5 / $11
    if ($9 >= 20 || $10 >= 10) noisy[k]++; n[k]++ }
  END {
    np = split(profs, P, " "); ns = split(names, S, " ")
    print "| profile | server | req/s median | spread | p99 ms | errors | peak RSS KiB | CPU server/wrk | req per server CPU-s | req/s ÷ hyper | p99 ÷ hyper | RSS ÷ hyper | req/CPU-s ÷ hyper | noisy runs kept |"
    print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (b = 1; b <= np; b++) {
      h = P[b] SUBSEP "hyper"
      for (c = 1; c <= ns; c++) {
        k = P[b] SUBSEP S[c]; r = median(rps[k]); q = median(p99[k]); e = median(eff[k])
        printf "| %s | %s | %.0f | %.0f%% | %.2f | %d | %d | %d%% / %d%% | %.0f | %s | %s | %s | %s | %d/%d |\n",
          P[b], S[c], r, (r > 0 ? 100 * (hi[k] - lo[k]) / r : 0), q, err[k], hwm[k],
          median(scpu[k]), median(wcpu[k]), e, ratio(r, median(rps[h])), ratio(q, median(p99[h])),
          ratio(hwm[k], hwm[h]), ratio(e, median(eff[h])), noisy[k], n[k]
      }
    }
    print ""
    print "spread: (max - min) / median of req/s over the rounds. p99: median of wrk'"'"'s p99 over the rounds."
    print "CPU: % of one CPU during the measured run (median). wrk near 100% means the client set the pace:"
    print "then req/s ratios are capped near 1 and req per server CPU-second (req/s ÷ server CPU) is the"
    print "fairer ratio. Peak RSS: largest VmHWM over the rounds. noisy: runs kept although the machine was"
    print "busy before them (>= 20%) or other processes used >= 10% of the CPUs during them."
  }' "$tsv"
(( keep )) && { echo; echo "raw outputs: $work"; }
exit 0
