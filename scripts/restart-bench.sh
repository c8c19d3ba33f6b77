#!/usr/bin/env bash
# Graceful restart of the example binary, measured (issue 5):
#   - handover time: from SIGUSR2 to the first response served by the new
#     process (fresh connections polled back to back), median of N restarts;
#   - failed requests over N restarts under steady load: keep-alive and
#     fresh-connection clients (Python), plus wrk's keep-alive load when wrk
#     is installed. Target: zero.
#
# Usage: scripts/restart-bench.sh                 (10 restarts, release build)
#        RESTARTS=5 IDLE_GRACE_MS=0 scripts/restart-bench.sh
#        LOAD=0 scripts/restart-bench.sh   (handover time on an idle server)
#        (IDLE_GRACE_MS=0 closes idle keep-alive connections at once when
#        draining, as Go's Shutdown does: watch requests fail.)
# Needs: cargo, python3; wrk optional.
set -euo pipefail
cd "$(dirname "$0")/.."

RESTARTS=${RESTARTS:-10}
IDLE_GRACE_MS=${IDLE_GRACE_MS:-500}
GAP_MS=${GAP_MS:-1000}
LOAD=${LOAD:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

cargo build --release -q -p demos --bin example
BIN="$CARGO_TARGET_DIR/release/example"
WRK=$(command -v wrk || true)

[ "$LOAD" = 1 ] || WRK=""
exec python3 - "$BIN" "$RESTARTS" "$IDLE_GRACE_MS" "$GAP_MS" "$WRK" "$LOAD" <<'PY'
import os, re, signal, socket, statistics, subprocess, sys, tempfile, threading, time

binary, restarts, grace_ms, gap_ms, wrk = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) / 1000, sys.argv[5]
load = sys.argv[6] == "1"
tmp = tempfile.mkdtemp(prefix="restart-bench-")
pid_file = os.path.join(tmp, "example.pid")
log_path = os.path.join(tmp, "example.log")
log = open(log_path, "w+")
server = subprocess.Popen([binary, "--addr", "127.0.0.1:0", "--pid-file", pid_file, "--idle-grace-ms", grace_ms],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)

def deadline_loop(seconds, what):
    end = time.monotonic() + seconds
    while True:
        yield
        if time.monotonic() > end:
            sys.exit(f"restart-bench: timed out waiting for {what}; log in {log_path}")

def read_pid():
    try:
        return int(open(pid_file).read().strip())
    except (OSError, ValueError):
        return None

def alive(pid):
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False

addr = None
for _ in deadline_loop(20, "the server to listen"):
    m = re.search(r"Listening on http://([\d.]+):(\d+)", open(log_path).read())
    if m and read_pid():
        addr = (m.group(1), int(m.group(2)))
        break
    time.sleep(0.01)

def read_response(f):
    status = f.readline()
    if not status:
        raise EOFError("closed before a response")
    code = int(status.split()[1])
    length, close = 0, False
    while True:
        line = f.readline()
        if not line:
            raise EOFError("closed inside a head")
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        elif name.lower() == b"connection" and value.strip().lower() == b"close":
            close = True
    body = f.read(length)
    if len(body) != length:
        raise EOFError("short body")
    return code, close, body

REQUEST = b"GET /pid HTTP/1.1\r\nHost: bench\r\n\r\n"

def get_pid_fresh():
    with socket.create_connection(addr, timeout=5) as s:
        s.sendall(REQUEST)
        code, _, body = read_response(s.makefile("rb"))
        return int(body) if code == 200 else None

stop = threading.Event()
counts = {"ok": 0, "failed": 0}
failures = []
lock = threading.Lock()

def client(keep_alive):
    conn = f = None
    reused = False
    while not stop.is_set():
        try:
            if conn is None:
                conn = socket.create_connection(addr, timeout=10)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                f, reused = conn.makefile("rb"), False
            conn.sendall(REQUEST)
            code, close, _ = read_response(f)
            with lock:
                if code == 200:
                    counts["ok"] += 1
                else:
                    counts["failed"] += 1
                    failures.append(f"status {code}")
            if close or not keep_alive:
                conn.close(); conn = None
            else:
                reused = True
        except Exception as e:
            with lock:
                counts["failed"] += 1
                failures.append(f"{type(e).__name__} on a {'reused' if reused else 'new'} connection: {e}")
            if conn is not None:
                conn.close()
            conn = None

threads = [threading.Thread(target=client, args=(i < 4,)) for i in range(6 if load else 0)]
for t in threads:
    t.start()

wrk_proc = None
if wrk:
    seconds = int(restarts * (gap_ms + 0.3) + 3)
    wrk_proc = subprocess.Popen([wrk, "-t1", "-c16", f"-d{seconds}s", f"http://{addr[0]}:{addr[1]}/pid"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
time.sleep(1)  # let the load settle before the first restart

handovers, pid_file_times = [], []
for i in range(restarts):
    old = read_pid()
    start = time.perf_counter()
    os.kill(old, signal.SIGUSR2)
    new_seen = None
    for _ in deadline_loop(20, "the new process to answer"):
        try:
            pid = get_pid_fresh()
        except (OSError, EOFError, ValueError):
            pid = None
        if pid is not None and pid != old:
            new_seen = time.perf_counter()
            break
    handovers.append((new_seen - start) * 1000)
    for _ in deadline_loop(20, "the pid file"):
        if read_pid() not in (None, old):
            break
    for _ in deadline_loop(40, f"process {old} to exit"):
        if not alive(old):
            break
        time.sleep(0.005)
    # Keep the load on the new process until the next restart.
    time.sleep(max(0, gap_ms - (time.perf_counter() - start)))

wrk_requests = wrk_errors = None
if wrk_proc:
    out, _ = wrk_proc.communicate(timeout=120)
    m = re.search(r"(\d+) requests in", out)
    wrk_requests = int(m.group(1)) if m else 0
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    wrk_errors = (sum(map(int, errs.groups())) if errs else 0) + (int(non2xx.group(1)) if non2xx else 0)
    if wrk_errors:
        print(out)
stop.set()
for t in threads:
    t.join()

final = read_pid()
os.kill(final, signal.SIGTERM)
for _ in deadline_loop(40, "the last process to exit"):
    if not alive(final):
        break
    time.sleep(0.01)
server.wait(timeout=5)

print(f"restarts: {restarts}  (idle grace {grace_ms} ms)")
print(f"load: {'yes' if load else 'none'}; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
print(f"handover, SIGUSR2 to the first response from the new process: "
      f"median {statistics.median(handovers):.1f} ms, min {min(handovers):.1f}, max {max(handovers):.1f}")
if load:
    print(f"python clients (4 keep-alive, 2 fresh-connection): {counts['ok'] + counts['failed']} requests, "
          f"{counts['failed']} failed")
for f in failures[:10]:
    print(f"  {f}")
if wrk_proc:
    print(f"wrk (16 keep-alive connections): {wrk_requests} requests, {wrk_errors} failed")
total = counts["ok"] + counts["failed"] + (wrk_requests or 0)
failed = counts["failed"] + (wrk_errors or 0)
print(f"total: {total} requests, {failed} failed")
print(f"log: {log_path}")
PY
