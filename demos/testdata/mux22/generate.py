#!/usr/bin/env python3
"""Makes generated.json: 500 random route tables with ten random requests
each, for the modern mux's conformance test, in two seeded rounds (the
second adds tabs and lower case after the method, `[::1]`, `..`, empty
literals, `*`, absolute-form and authority-form CONNECT targets).

The tables Go refuses to register are turned into refusal tables here (Go's
muxecho is run once per table); then Go's answers are recorded:

    python3 generate.py MUXECHO > generated.json     # MUXECHO: Go's muxecho, built

and then each case is sent raw over TCP to Go's muxecho and its answer
written into the file (the corpus runner's `--record` mode, which is not
part of this repository; `demos/tests/mux22_conformance.rs` is the same
runner in Rust, without recording).
"""
import json
import random
import subprocess
import sys


def round_one(rnd):
    methods = ["", "", "", "GET ", "POST ", "HEAD ", "CONNECT ", "DELETE "]
    hosts = ["", "", "", "example.com", "h.test:8080"]
    lits = ["a", "b", "c", "%61", "a%2Fb", "é", "x.y"]

    def pattern():
        n = rnd.randint(0, 3)
        segs, used = [], set()
        for i in range(n):
            last, r = i == n - 1, rnd.random()
            if r < 0.55:
                s = rnd.choice(lits)
            elif r < 0.75:
                s = "{" + rnd.choice(["x", "y", "z", "w"]) + "}"
            elif last and r < 0.85:
                s = "{rest...}"
            elif last and r < 0.93:
                s = "{$}"
            else:
                s = rnd.choice(lits)
            if s.startswith("{") and s != "{$}":
                name = s.strip("{}.")
                if name in used:
                    s = "b"
                used.add(name)
            segs.append(s)
        path = "/" + "/".join(segs)
        if n > 0 and rnd.random() < 0.25 and not segs[-1].startswith("{"):
            path += "/"
        return rnd.choice(methods) + rnd.choice(hosts) + path

    def request():
        method = rnd.choice(["GET", "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT"])
        n = rnd.randint(0, 4)
        t = "/" + "/".join(rnd.choice(["a", "b", "c", "%61", "a%2Fb", "é", "x.y", "", "..", ".", "q", "%2F", "d"])
                           for _ in range(n))
        if rnd.random() < 0.3:
            t += "/"
        if rnd.random() < 0.15:
            t += "?q=1"
        host = rnd.choice(["example.com", "example.com:80", "h.test:8080", "other"])
        return method, t, host

    return pattern, request


def round_two(rnd):
    methods = ["", "", "GET ", "POST ", "HEAD ", "CONNECT ", "GET  ", "get ", "PUT\t"]
    hosts = ["", "", "", "example.com", "h.test:8080", "[::1]"]
    lits = ["a", "b", "%61", "a%2Fb", "é", "..", "%7Bx%7D", "x%20y", ""]

    def pattern():
        n = rnd.randint(0, 3)
        segs, used = [], set()
        for i in range(n):
            last, r = i == n - 1, rnd.random()
            if r < 0.5:
                s = rnd.choice(lits)
            elif r < 0.72:
                name = rnd.choice(["x", "y", "z"])
                s = "{" + name + "}" if name not in used else "b"
                used.add(name)
            elif last and r < 0.86:
                s = "{rest...}"
            elif last:
                s = "{$}"
            else:
                s = "c"
            segs.append(s)
        path = "/" + "/".join(segs)
        if n > 0 and rnd.random() < 0.25 and not segs[-1].startswith("{"):
            path += "/"
        return rnd.choice(methods) + rnd.choice(hosts) + path

    def target():
        r = rnd.random()
        if r < 0.05:
            return "*"
        if r < 0.1:
            return "http://example.com" + rnd.choice(["", "/a", "/a/b/"])
        n = rnd.randint(0, 4)
        t = "/" + "/".join(rnd.choice(["a", "b", "c", "%61", "a%2Fb", "é", "..", ".", "", "%7Bx%7D", "x%20y",
                                       "%2e%2e", "A"]) for _ in range(n))
        if rnd.random() < 0.3:
            t += "/"
        if rnd.random() < 0.15:
            t += "?q=1&r"
        return t

    def request():
        method = rnd.choice(["GET", "GET", "HEAD", "POST", "PUT", "CONNECT", "get", "OPTIONS"])
        t = target()
        if method == "CONNECT" and rnd.random() < 0.4:
            t = rnd.choice(["example.com:443", "h.test:8080", "example.com"])
        host = rnd.choice(["example.com", "example.com:80", "h.test:8080", "Example.com", "[::1]:80", "[::1]"])
        return method, t, host

    return pattern, request


def tables(prefix, seed, make):
    rnd = random.Random(seed)
    pattern, request = make(rnd)
    out = []
    for i in range(250):
        pats = []
        for _ in range(rnd.randint(1, 6)):
            p = pattern()
            if p not in pats:
                pats.append(p)
        cases = []
        for _ in range(10):
            method, target, host = request()
            cases.append({"rule": "fuzz", "source": "generated", "method": method, "target": target,
                          "host": host, "expect": None})
        out.append({"name": "%s%d" % (prefix, i), "public": False, "patterns": pats, "recorded_with": "",
                    "about": "random table (seeded generator), answers recorded from Go 1.27.3's muxecho",
                    "cases": cases})
    return out


def refusals(muxecho, all_tables):
    """Tables whose patterns Go refuses become refusal tables."""
    for t in all_tables:
        p = subprocess.Popen([muxecho, "-addr", "127.0.0.1:0"] + t["patterns"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.stdout.readline().startswith("listening"):
            p.kill()
            p.wait()
            continue
        p.wait()
        del t["cases"]
        t["rule"] = "register"
        t["expect_registration_error"] = {"exit_code": p.returncode,
                                          "stderr": (p.stderr.read().splitlines() or [""])[0]}
    return all_tables


if __name__ == "__main__":
    all_tables = refusals(sys.argv[1], tables("fuzz", 7, round_one) + tables("fz", 99, round_two))
    print("[\n" + ",\n".join(json.dumps(t, ensure_ascii=False, separators=(",", ":")) for t in all_tables) + "\n]")
