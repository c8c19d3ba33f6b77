#!/usr/bin/env python3
"""attack.py: what a server on 127.0.0.1 does under the cheap attacks, measured.

Used by notes/under-attack.md. Python standard library only; it talks to
127.0.0.1 and nothing else, and every load is bounded in count and time.

  python3 scripts/attack.py slowloris --port 8040 [--conns 1000] [--hold 10]
      Each connection sends a request line and Host, then one more header
      line every second, never the empty line that ends the head.
  python3 scripts/attack.py idle --port 8040 [--conns 1000] [--hold 10]
      Each connection sends nothing at all (also the way to use up the
      server's file descriptors: start it under `ulimit -n 256`).
  python3 scripts/attack.py huge --port 8040 [--limit-mib 64] [--hold 10]
      Endless inputs, one at a time: a request-target, a header line, header
      lines, a chunked body, one huge chunk. Each is written until the
      server answers or closes, --limit-mib is sent, or --hold seconds pass.

While an attack runs, a probe opens a fresh connection every second and
sends a normal `GET /` (2 s to answer): that is what a real user would see.
When the listening process can be found (through /proc, same user), its
resident memory and CPU time are reported too.
"""

import argparse
import os
import selectors
import socket
import sys
import time

HOST = "127.0.0.1"  # the only address this script ever connects to
MAX_CONNS = 5000
MAX_HOLD = 120
MAX_MIB = 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("attack", choices=["slowloris", "idle", "huge"])
    parser.add_argument("--port", type=int, required=True, help="the server's port on 127.0.0.1")
    parser.add_argument("--conns", type=int, default=1000, help=f"connections (slowloris, idle; at most {MAX_CONNS})")
    parser.add_argument("--hold", type=float, default=10, help=f"seconds to keep attacking (at most {MAX_HOLD})")
    parser.add_argument("--limit-mib", type=int, default=64, help=f"most MiB sent per input (huge; at most {MAX_MIB})")
    args = parser.parse_args()
    if not 0 < args.conns <= MAX_CONNS or not 0 < args.hold <= MAX_HOLD or not 0 < args.limit_mib <= MAX_MIB:
        parser.error(f"--conns 1..{MAX_CONNS}, --hold 0..{MAX_HOLD}, --limit-mib 1..{MAX_MIB}")
    server = ServerProcess.find(args.port)
    if args.attack == "huge":
        huge_inputs(args.port, args.limit_mib << 20, args.hold, server)
    else:
        hold_connections(args.attack, args.port, args.conns, args.hold, server)


# ---------------------------------------------------------------- the server


class ServerProcess:
    """The process listening on the port, found through /proc, for its memory
    and CPU time. None when it cannot be found (another user's process)."""

    def __init__(self, pid):
        self.pid = pid
        self.cpu_start = self.cpu_seconds()
        self.rss_start = self.status_kib("VmRSS")

    @staticmethod
    def find(port):
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    next(f)
                    for line in f:
                        fields = line.split()
                        local, state, inode = fields[1], fields[3], fields[9]
                        if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                            inodes.add(f"socket:[{inode}]")
            except OSError:
                pass
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
                if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in fds):
                    return ServerProcess(int(pid))
            except OSError:
                continue
        return None

    def cpu_seconds(self):
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return float("nan")

    def status_kib(self, key):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            pass
        return -1

    def open_fds(self):
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return -1

    def report(self):
        cpu = self.cpu_seconds() - self.cpu_start
        rss, peak = self.status_kib("VmRSS"), self.status_kib("VmHWM")
        return (f"server pid {self.pid}: CPU {cpu:.2f} s during the run, RSS {self.rss_start / 1024:.1f}"
                f" -> {rss / 1024:.1f} MiB (peak {peak / 1024:.1f} MiB), {self.open_fds()} descriptors open")


# ------------------------------------------------------------------ the probe


def probe(port, timeout=2.0):
    """One normal request on a fresh connection: ('200', ms) or (why, ms)."""
    start = time.monotonic()
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            first = s.recv(64)
        status = first.split(b" ")[1].decode() if first.startswith(b"HTTP/1.") else "closed"
    except socket.timeout:
        status = "no answer"
    except OSError as e:
        status = type(e).__name__
    return status, (time.monotonic() - start) * 1000


# ------------------------------------------------------- many held connections


def hold_connections(attack, port, conns, hold, server):
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" if attack == "slowloris" else b""
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    opened, refused, answered = 0, 0, 0
    for i in range(conns):
        try:
            s = socket.create_connection((HOST, port), timeout=2)
            s.setblocking(False)
            if head:
                s.send(head)
            sel.register(s, selectors.EVENT_READ, i)
            opened += 1
        except OSError:
            refused += 1
    print(f"{attack}: {opened} connections open, {refused} refused, in {time.monotonic() - start:.2f} s")
    closed_at = []  # seconds since start, one per connection the server closed
    probes = []
    next_tick = time.monotonic() + 1
    deadline = start + hold
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0, min(next_tick, deadline) - time.monotonic())):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                answered += data.startswith(b"HTTP/")
                continue
            closed_at.append(time.monotonic() - start)
            sel.unregister(s)
            s.close()
        if time.monotonic() >= next_tick:
            next_tick += 1
            if head:  # slowloris: one more header line on every open connection
                for key in list(sel.get_map().values()):
                    try:
                        key.fileobj.send(b"X-a: b\r\n")
                    except OSError:
                        pass
            status, ms = probe(port)
            probes.append(status)
            t = time.monotonic() - start
            print(f"  t={t:5.1f} s  open {opened - len(closed_at):5d}  closed by the server {len(closed_at):5d}"
                  f"  probe: {status} in {ms:.0f} ms")
    still_open = opened - len(closed_at)
    report = [f"{attack}: held {opened} connections for {hold:g} s: {len(closed_at)} closed by the server"]
    if closed_at:
        report.append(f"(first at {min(closed_at):.1f} s, last at {max(closed_at):.1f} s)")
    report.append(f"{still_open} still open; {answered} got a response;")
    report.append(f"probes served: {probes.count('200')}/{len(probes)}")
    print(" ".join(report))
    if server:
        print(server.report())
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    # After the attack: how long until a fresh request is served again.
    after = time.monotonic()
    while time.monotonic() - after < 5:
        status, ms = probe(port, timeout=1)
        if status == "200":
            print(f"after the attack: served again {(time.monotonic() - after) * 1000:.0f} ms after the close")
            break
    else:
        print("after the attack: still not served 5 s after the close")


# ------------------------------------------------------------- endless inputs


HUGE = [
    ("endless request-target", b"GET /", b"a" * 65536),
    ("endless header line", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: ", b"a" * 65536),
    ("endless header lines", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-a: b\r\n" * 8192),
    ("endless chunked body", b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n",
     b"ff00\r\n" + b"a" * 0xFF00 + b"\r\n"),
    ("one 1 TiB chunk", b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"10000000000\r\n", b"a" * 65536),
]


def huge_inputs(port, limit, hold, server):
    for name, start_bytes, repeat in HUGE:
        # A small send buffer, so that what is sent is close to what the
        # server has read (its own receive buffer still holds some).
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        s.settimeout(2)
        s.connect((HOST, port))
        s.setblocking(False)
        sent, received, outcome, answered_after = 0, b"", None, None
        pending = start_bytes
        start = time.monotonic()
        while outcome is None:
            if time.monotonic() - start > hold:
                outcome = f"still reading after {hold:g} s"
                break
            if sent >= limit:
                outcome = f"all {limit >> 20} MiB taken"
                break
            ready = selectors.DefaultSelector()
            ready.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
            events = ready.select(timeout=0.5)
            ready.close()
            for _, mask in events:
                if mask & selectors.EVENT_READ:
                    try:
                        data = s.recv(65536)
                    except OSError as e:
                        outcome = f"reset ({type(e).__name__})"
                        break
                    if not data:
                        outcome = "closed"
                        break
                    if not received:
                        answered_after = sent
                    received += data
                if mask & selectors.EVENT_WRITE:
                    try:
                        n = s.send(pending or repeat)
                    except BlockingIOError:
                        continue
                    except OSError as e:
                        outcome = f"reset ({type(e).__name__})"
                        break
                    sent += n
                    pending = (pending or repeat)[n:]
        status = received.split(b"\r\n", 1)[0].decode(errors="replace") if received else "no response"
        if answered_after is not None:
            status += f" after {answered_after >> 10} KiB"
        took = time.monotonic() - start
        print(f"{name:24s} {status:58s} then {outcome} at {sent >> 10} KiB, {took:.2f} s")
        s.close()
    probe_status, ms = probe(port)
    print(f"then a normal request: {probe_status} in {ms:.0f} ms")
    if server:
        print(server.report())


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
