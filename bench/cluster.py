#!/usr/bin/env python3
"""Cluster benchmark: the cost of cross-node dispatch against local dispatch, and the throughput
with one, two and three hub nodes behind HAProxy. Small GETs, 64 connections, Slime-Block: 1, one
agent with 64 workers, nginx as upstream, all on loopback. Writes bench/CLUSTER-RESULTS.md.

Run through bench/run's installs first (wrk, nginx, haproxy), then: python3 bench/cluster.py
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from slimebench.common import ROOT
from slimebench.procs import free_port

WORK = os.path.join(ROOT, "bench", "work", "cluster")
SLIME = os.path.join(ROOT, "bin", "slime")
SECRET = "cluster-bench"
WARM_S = int(os.environ.get("WARM_S", "40"))    # the JIT settles after about 40 s (bench/PROFILE.md)
MEASURE_S = int(os.environ.get("MEASURE_S", "10"))
procs = []


def log(msg):
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def start(name, cmd):
    out = open(os.path.join(WORK, name + ".log"), "w")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(p)
    return p


def stop_all():
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    procs.clear()
    time.sleep(1)


def wait_http(port, path="/", headers=(), timeout=60, want=200):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "2"]
            for h in headers:
                args += ["-H", h]
            code = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"],
                                  capture_output=True, text=True).stdout
            if code == str(want):
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"port {port} did not answer {want} within {timeout} s; logs in {WORK}")


def nginx():
    port = free_port()
    conf = os.path.join(WORK, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1; daemon off; pid {WORK}/nginx.pid; error_log {WORK}/nginx.err;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "cluster-bench-ok\\n"; }} }} }}
""")
    start("nginx", ["nginx", "-c", conf, "-p", WORK])
    wait_http(port)
    return port


def hubs(n):
    http = [free_port() for _ in range(n)]
    cluster = [free_port() for _ in range(n)]
    for i in range(n):
        cmd = [SLIME, "hub", "run", "--secret", SECRET, "--host", "127.0.0.1", "--port", str(http[i])]
        if n > 1:
            cmd += ["--clusterHost", "127.0.0.1", "--clusterPort", str(cluster[i]),
                    "--seed", f"127.0.0.1:{cluster[0]}"]
        start(f"hub{n}-{i}", cmd)
    for port in http:
        wait_http(port, "/_slime/x", want=404)
    return http


def haproxy(ports):
    port = free_port()
    conf = os.path.join(WORK, "haproxy.cfg")
    servers = "\n".join(f"  server h{i} 127.0.0.1:{p} check inter 1s" for i, p in enumerate(ports))
    with open(conf, "w") as f:
        f.write(f"""defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
frontend f
  bind 127.0.0.1:{port}
  default_backend b
backend b
  balance roundrobin
{servers}
""")
    start("haproxy", ["haproxy", "-f", conf])
    time.sleep(1)
    return port


def agent(hub_address, upstream, workers=64):
    token = subprocess.run([SLIME, "hub", "register", "--secret", SECRET, "--name", "bench"],
                           capture_output=True, text=True, check=True).stdout.strip()
    start("agent", [SLIME, "agent", "run", "--token", token, "--hub", hub_address,
                    "--upstream", f"127.0.0.1:{upstream}", "--numWorker", str(workers),
                    "--agentID", "cluster-bench"])


def wrk(port, seconds):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "-H", "Slime-Block: 1", "--latency",
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    return rate, float(p99.group(1)) * scale, int(non2xx.group(1)) if non2xx else 0


def measure(port, label):
    log(f"{label}: warm-up {WARM_S} s")
    wrk(port, WARM_S)
    rate, p99, errors = wrk(port, MEASURE_S)
    log(f"{label}: {rate:,.0f} req/s, p99 {p99:.1f} ms, non-2xx {errors}")
    return rate, p99, errors


def main():
    for tool in ("wrk", "nginx", "haproxy", "curl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: run bench/run once (it installs it), or apt-get it")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    subprocess.run([SLIME, "version"], check=True, capture_output=True)  # builds the jar if stale
    rows = []
    try:
        upstream = nginx()
        # Local against cross-node: the agent sits on node B; clients call B, then A.
        a, b = hubs(2)
        agent(f"127.0.0.1:{b}", upstream)
        wait_http(a, "/", ("Slime-Block: 1",))
        local = measure(b, "local dispatch (clients at the agent's node)")
        cross = measure(a, "cross-node dispatch (clients at the other node)")
        rows.append(("dispatch at the agent's node (local)", *local, ""))
        rows.append(("dispatch through the other node (cross-node)", *cross,
                     f"{cross[0] / local[0]:.0%} of local"))
        stop_all()
        upstream = nginx()
        one = None
        for n in (1, 2, 3):
            ports = hubs(n)
            lb = haproxy(ports)
            agent(f"127.0.0.1:{lb}", upstream)
            wait_http(lb, "/", ("Slime-Block: 1",))
            result = measure(lb, f"{n} node(s) behind HAProxy")
            one = one or result[0]
            rows.append((f"{n} node(s) behind HAProxy, agent through HAProxy", *result,
                         f"{result[0] / one:.0%} of 1 node"))
            stop_all()
            upstream = nginx()
    finally:
        stop_all()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    with open(os.path.join(ROOT, "bench", "CLUSTER-RESULTS.md"), "w") as f:
        f.write("# slime cluster benchmark\n\n")
        f.write(f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, "
                f"{os.cpu_count()} cores shared by every process below\n")
        f.write(f"- small GETs, wrk 64 connections with Slime-Block: 1, one agent with 64 workers, "
                f"nginx upstream; {WARM_S} s warm-up, {MEASURE_S} s measured\n\n")
        f.write("| setup | req/s | p99 ms | non-2xx | ratio |\n|---|---|---|---|---|\n")
        for label, rate, p99, errors, ratio in rows:
            f.write(f"| {label} | {rate:,.0f} | {p99:.1f} | {errors} | {ratio} |\n")
    log("wrote bench/CLUSTER-RESULTS.md")


if __name__ == "__main__":
    sys.exit(main())
