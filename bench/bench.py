#!/usr/bin/env python3
"""slime benchmark harness (python3 stdlib only). Entry point: bench/run. See bench/README.md.

Runs each scenario against three targets in the same sitting:
  direct   the upstream itself (nginx or the python upstream pyup.py)
  haproxy  HAProxy as a plain one-hop reverse proxy in front of that upstream
  slime    a slime hub plus agent(s) in front of that upstream
and prints one table with absolute figures, ratios to HAProxy and to direct, and the targets.
"""
import argparse
import asyncio
import contextlib
import datetime
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
import traceback

from slimebench.common import BENCH, LOGS, MIB, ROOT, SLOW_BODY, SMALL_BODY, WORK, BenchError, log
from slimebench.load import abort_writer, body_chunks, fetch, http_get, read_head, req_bytes, wrk
from slimebench.measure import CLK_TCK, cpu_ticks, heap_used_kb, jcmd_path, pct, rss_kb, tree
from slimebench.procs import EXTERNAL_KILLS, References, checkout, cleanup, ensure_tools, on_signal
from slimebench.slime import Hub, SlimeCtl, SlimeUnavailable, newest_installed_jdk

# ---------------------------------------------------------------- results table

class Results:
    def __init__(self):
        self.rows = []
        self.notes = []

    def add(self, scn, metric, d=None, h=None, s=None, fmt="{:.0f}", ratio=None, target="", result="",
            ratio_d=None):
        """ratio: 'pct' (slime / x as percent), 'x' (slime / x as multiple), 'add' (slime - x), None."""
        def f(v):
            if v is None:
                return "—"
            if isinstance(v, str):
                return v
            return fmt.format(v)

        def r(a, b):
            if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or ratio is None:
                return ""
            if ratio == "add":
                return ("+" if a - b >= 0 else "") + fmt.format(a - b) + " ms"
            if b == 0:
                return ""
            if ratio == "pct":
                return f"{100.0 * a / b:.0f}%"
            return f"{a / b:.2f}x"
        self.rows.append({"scenario": scn, "metric": metric, "direct": f(d), "haproxy": f(h), "slime": f(s),
                          "vs_haproxy": r(s, h), "vs_direct": r(s, d) if ratio_d is None else ratio_d,
                          "target": target, "result": result,
                          "raw": {"direct": d, "haproxy": h, "slime": s}})

    def note(self, scn, text):
        self.notes.append((scn, text))

    def table(self):
        cols = ["scenario", "metric", "direct", "haproxy", "slime", "vs_haproxy", "vs_direct", "target", "result"]
        names = ["#", "metric", "direct", "HAProxy", "slime", "slime/HAProxy", "slime/direct", "target", "result"]
        lines = ["| " + " | ".join(names) + " |", "|" + "|".join("---" for _ in names) + "|"]
        for row in self.rows:
            lines.append("| " + " | ".join(str(row[c]).replace("|", "/") for c in cols) + " |")
        return "\n".join(lines)


def verdict(ok):
    if ok is None:
        return "n/a"
    return "PASS" if ok else "MISS"


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---------------------------------------------------------------- the run

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.dur = 5 if args.quick else 10
        self.short = 3 if args.quick else 10
        self.reps = 1 if args.quick else 3
        self.warm = 2 if args.quick else 5
        self.slime_warm = 3 if args.quick else 40      # C2 settles after about 40 s of load (profiled)
        self.res = Results()
        java_home = args.java or os.environ.get("JAVA_HOME") or newest_installed_jdk()
        self.java_home = java_home
        self.src = ROOT
        if args.commit:
            self.src = checkout(args.commit)
        self.slime = SlimeCtl(java_home, args.jar, self.src)
        self.jcmd = jcmd_path(java_home)
        self.harness_errors = []
        self.machine = {}

    # ---- setup
    def start_references(self):
        self.refs = References().start()
        r = self.refs
        self.file_1m, self.nginx, self.pyup, self.haproxy = r.file_1m, r.nginx, r.pyup, r.haproxy
        self.nginx_port, self.pyup_port, self.hap_nginx, self.hap_pyup = \
            r.nginx_port, r.pyup_port, r.hap_nginx, r.hap_pyup

    def machine_info(self):
        m = {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
             "nproc": os.cpu_count()}
        with contextlib.suppress(OSError):
            for line in open("/proc/meminfo"):
                if line.startswith("MemTotal:"):
                    m["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        with contextlib.suppress(OSError):
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    m["cpu"] = line.split(":", 1)[1].strip()
                    break
        m["kernel"] = os.uname().release
        with contextlib.suppress(OSError):
            m["load_start"] = open("/proc/loadavg").read().split()[:3]
        java = os.path.join(self.java_home, "bin", "java") if self.java_home else "java"
        try:
            j = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
            m["java"] = " / ".join(ln.strip() for ln in j.stderr.strip().splitlines())
        except (OSError, subprocess.TimeoutExpired) as e:
            m["java"] = f"not runnable ({java}: {e})"
        m["java_home"] = self.java_home or "(java on PATH)"
        try:
            c = subprocess.run(["git", "-C", self.src, "rev-parse", "--short", "HEAD"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
            dirty = subprocess.run(["git", "-C", self.src, "status", "--porcelain", "--untracked-files=no",
                                    "--", ".", ":!bench"],
                                   capture_output=True, text=True, timeout=10).stdout.strip()
            m["commit"] = c + (" (work tree with uncommitted changes outside bench/)" if dirty else "")
            if self.args.jar:
                m["commit"] += " (but slime from --jar, see below)"
            elif self.src != ROOT:
                m["commit"] += " (clean checkout, --commit)"
        except (OSError, subprocess.TimeoutExpired):
            m["commit"] = "unknown"
        m["wrk"] = "wrk 4.1.0 (Debian)"
        for tool, argv in (("haproxy", ["haproxy", "-v"]), ("nginx", ["nginx", "-v"])):
            with contextlib.suppress(Exception):
                o = subprocess.run(argv, capture_output=True, text=True, timeout=10)
                m[tool] = (o.stdout + o.stderr).strip().splitlines()[0]
        m["slime_java_opts"] = os.environ.get("SLIME_JAVA_OPTS", "")
        m["mode"] = "quick" if self.quick else "full"
        self.machine = m

    # ---- helpers
    def targets(self, kind, hub):
        """[(name, port or SlimeUnavailable)] for kind 'nginx' or 'pyup'."""
        d = self.nginx_port if kind == "nginx" else self.pyup_port
        h = self.hap_nginx if kind == "nginx" else self.hap_pyup
        return [("direct", d), ("haproxy", h), ("slime", hub)]

    def cpu_pids(self, name, hub):
        if name == "direct":
            return tree(self.nginx.pid)
        if name == "haproxy":
            return tree(self.haproxy.pid)
        return hub.pids()

    @staticmethod
    def port_of(t):
        return t.port if isinstance(t, Hub) else t

    def na(self, t):
        return "n/a" if isinstance(t, SlimeUnavailable) else None

    def wrk_err_note(self, scn, name, r):
        if r["errors"]:
            self.res.note(scn, f"{name}: {r['ok']} good, {r['bad']} wrong 200 bodies, {r['s503']} 503s, "
                               f"{r['other']} other statuses, {r['sockerr']} socket errors/timeouts"
                          + (f"; first bad: {r['badsample']!r}" if r["badsample"] else ""))
        if name == "slime" and r.get("noagent"):
            self.res.note(scn, f"slime: {r['noagent']} of the 200 responses lacked the Slime-Agent header")

    # ---- scenario 1 (+5), 2
    def s1_s5(self, hub, want1, want5):
        tg = self.targets("nginx", hub)
        best, runs = {}, {}
        for name, t in tg:
            if isinstance(t, SlimeUnavailable):
                continue
            wrk(self.port_of(t), "/small", 64, self.slime_warm if name == "slime" else self.warm,
                expect=SMALL_BODY, tag="warm")
        for rep in range(self.reps):
            for name, t in tg:
                if isinstance(t, SlimeUnavailable):
                    continue
                pids = self.cpu_pids(name, t)
                c0 = cpu_ticks(pids)
                r = wrk(self.port_of(t), "/small", 64, self.dur, expect=SMALL_BODY, agent=(name == "slime"),
                        tag=f"s1-{name}-{rep}")
                c1 = cpu_ticks(pids)
                r["cpu_ms_per_req"] = ((c1 - c0) / CLK_TCK * 1000.0 / r["ok"]) if r["ok"] else None
                r["cpu_s"] = (c1 - c0) / CLK_TCK
                runs.setdefault(name, []).append(r)
                log(f"s1 {name} rep {rep + 1}: {r['rps']:.0f} valid req/s, p99 {r['p99_ms']:.2f} ms, "
                    f"errors {r['errors']}, cpu {r['cpu_ms_per_req'] or 0:.4f} ms/req")
        for name, rs in runs.items():
            best[name] = dict(max(rs, key=lambda r: r["rps"]))
            best[name]["p99_ms"] = min(r["p99_ms"] for r in rs)
            best[name]["cpu_ms_per_req"] = min((r["cpu_ms_per_req"] for r in rs if r["cpu_ms_per_req"]),
                                               default=None)
            self.wrk_err_note(1, name, best[name])
            tot_err = sum(r["errors"] for r in rs)
            if tot_err != best[name]["errors"]:
                self.res.note(1, f"{name}: {tot_err} errors over all repetitions")
        self.s1_runs = runs
        g = lambda n, k: best[n][k] if n in best else self.na(dict(tg)[n])   # noqa: E731
        s_rps, h_rps = g("slime", "rps"), g("haproxy", "rps")
        if want1:
            ok = (s_rps / h_rps >= 0.30) if num(s_rps) and num(h_rps) else None
            aim = ""
            if num(s_rps) and num(h_rps):
                aim = " (aim 50%: " + ("reached" if s_rps / h_rps >= 0.5 else "not reached") + ")"
            self.res.add(1, f"small GET, 64 conns, Slime-Block, 64 workers: valid req/s (best of {self.reps}"
                            f" x {self.dur} s; p99 and CPU: lowest of the runs)", g("direct", "rps"), h_rps, s_rps, fmt="{:,.0f}", ratio="pct",
                         target="≥ 30% of HAProxy" + aim, result=verdict(ok))
            s_p99, h_p99 = g("slime", "p99_ms"), g("haproxy", "p99_ms")
            ok = (s_p99 <= 5 * h_p99) if num(s_p99) and num(h_p99) else None
            self.res.add(1, "  p99 latency, ms", g("direct", "p99_ms"), h_p99, s_p99, fmt="{:.2f}", ratio="x",
                         target="≤ 5x HAProxy", result=verdict(ok))
            self.res.add(1, "  errors (wrong body, non-200, socket)", g("direct", "errors"),
                         g("haproxy", "errors"), g("slime", "errors"), fmt="{:d}")
        if want5:
            s_cpu = g("slime", "cpu_ms_per_req")
            ok = (s_cpu <= 0.1) if num(s_cpu) else None
            self.res.add(5, "CPU per request (ms), during scenario 1 (direct: nginx; HAProxy; slime: hub+agent)",
                         g("direct", "cpu_ms_per_req"), g("haproxy", "cpu_ms_per_req"), s_cpu, fmt="{:.4f}",
                         ratio="x", target="≤ 0.1 ms (hub+agent)", result=verdict(ok))

    def s2(self, hub):
        tg = self.targets("nginx", hub)
        res = {}
        for name, t in tg:
            if isinstance(t, SlimeUnavailable):
                continue
            r = wrk(self.port_of(t), "/small", 64, self.short, expect=SMALL_BODY, block=False,
                    agent=(name == "slime"), tag=f"s2-{name}")
            res[name] = r
            self.wrk_err_note(2, name, r)
            log(f"s2 {name}: {r['ok']} ok, {r['s503']} 503, {r['bad']} wrong, {r['other']} other, "
                f"{r['sockerr']} socket errors")
        g = lambda n, k: res[n][k] if n in res else self.na(dict(tg)[n])   # noqa: E731
        s503, sbad = g("slime", "s503"), g("slime", "bad")
        self.res.add(2, f"small GET without Slime-Block, 64 conns, 64 workers ({self.short} s): 503 answers",
                     g("direct", "s503"), g("haproxy", "s503"), s503, fmt="{:d}", target="0",
                     result=verdict(s503 == 0 if num(s503) else None))
        bad = {n: (res[n]["bad"] + res[n]["other"]) for n in res}
        sb = bad.get("slime", self.na(dict(tg)["slime"]))
        self.res.add(2, "  wrong bodies and other non-200", bad.get("direct"), bad.get("haproxy"), sb, fmt="{:d}",
                     target="0", result=verdict(sb == 0 if num(sb) else None))
        self.res.add(2, "  valid req/s", g("direct", "rps"), g("haproxy", "rps"), g("slime", "rps"),
                     fmt="{:,.0f}", ratio="pct")

    # ---- scenario 3
    def s3(self, hub):
        tg = self.targets("nginx", hub)
        res = {}
        for name, t in tg:
            if isinstance(t, SlimeUnavailable):
                continue
            if name == "slime":
                # /slow's own response without the wait: the JIT sees the measured path thousands of times
                wrk(self.port_of(t), "/slow-now", 32, self.slime_warm, expect=SLOW_BODY, tag="warm")
                wrk(self.port_of(t), "/slow", 32, 2, expect=SLOW_BODY, tag="warm")
            r = wrk(self.port_of(t), "/slow", 32, self.dur, expect=SLOW_BODY, agent=(name == "slime"),
                    tag=f"s3-{name}")
            res[name] = r
            self.wrk_err_note(3, name, r)
            log(f"s3 {name}: {r['rps']:.1f} valid req/s, p99 {r['p99_ms']:.1f} ms, errors {r['errors']}")
        g = lambda n, k: res[n][k] if n in res else self.na(dict(tg)[n])   # noqa: E731
        s = g("slime", "rps")
        self.res.add(3, f"slow upstream 50 ms, 32 blocked conns, 4 workers: valid req/s ({self.dur} s; "
                        "references have no worker limit)", g("direct", "rps"), g("haproxy", "rps"), s,
                     fmt="{:.1f}", ratio_d=(f"{100 * s / 80:.1f}% of ideal 80" if num(s) else ""),
                     target="≥ 78.4 (98% of ideal 80/s)", result=verdict(s >= 78.4 if num(s) else None))
        s = g("slime", "p99_ms")
        self.res.add(3, "  p99 latency, ms", g("direct", "p99_ms"), g("haproxy", "p99_ms"), s, fmt="{:.1f}",
                     ratio_d=(f"{s / 400:.2f}x of ideal 400 ms" if num(s) else ""),
                     target="≤ 520 ms (1.3 x 400 ms)", result=verdict(s <= 520 if num(s) else None))

    # ---- scenario 4
    def s4(self, hub):
        tg = self.targets("nginx", hub)
        reps = 1 if self.quick else 2
        for kind in ("download", "upload"):
            runs = {}
            kw = dict(expect_file=self.file_1m) if kind == "download" else \
                dict(expect=f"upload-ok {MIB}\n", upload=MIB)
            path = "/1m" if kind == "download" else "/upload"
            for name, t in tg:
                if isinstance(t, SlimeUnavailable):
                    continue
                if name == "slime":
                    wrk(self.port_of(t), path, 8, self.slime_warm, tag="warm", **kw)
            for rep in range(reps):
                for name, t in tg:
                    if isinstance(t, SlimeUnavailable):
                        continue
                    r = wrk(self.port_of(t), path, 8, self.short, agent=(name == "slime"), timeout_s=30,
                            tag=f"s4-{kind}-{name}-{rep}", **kw)
                    r["mibs"] = r["ok"] * MIB / MIB / r["secs"] if r["secs"] else 0
                    runs.setdefault(name, []).append(r)
                    log(f"s4 {kind} {name}: {r['mibs']:.0f} MiB/s, errors {r['errors']}")
            best = {n: max(rs, key=lambda r: r["mibs"]) for n, rs in runs.items()}
            for n, r in best.items():
                self.wrk_err_note(4, f"{kind} {n}", r)
            g = lambda n, k: best[n][k] if n in best else self.na(dict(tg)[n])   # noqa: E731
            s, h = g("slime", "mibs"), g("haproxy", "mibs")
            ok = (s >= 0.8 * h) if num(s) and num(h) else None
            self.res.add(4, f"1 MiB {kind}s, 8 conns, 8 workers: MiB/s (best of {reps} x {self.short} s)",
                         g("direct", "mibs"), h, s, fmt="{:,.0f}", ratio="pct", target="≥ 80% of HAProxy",
                         result=verdict(ok))
            errs = {n: best[n]["errors"] for n in best}
            self.res.add(4, f"  {kind} errors", errs.get("direct"), errs.get("haproxy"),
                         errs.get("slime", self.na(dict(tg)["slime"])), fmt="{:d}")

    # ---- scenario 6
    async def sse_stream(self, port, n, ms):
        t0 = time.monotonic_ns()
        r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        events = []
        try:
            w.write(req_bytes(f"/sse?n={n}&ms={ms}", {"Slime-Block": "1"}))
            st, h = await read_head(r)
            if st != 200:
                return None, f"status {st}"
            buf = b""
            async for chunk in body_chunks(r, h):
                now = time.monotonic_ns()
                buf += chunk
                while b"\n\n" in buf:
                    ev, buf = buf.split(b"\n\n", 1)
                    for line in ev.split(b"\n"):
                        if line.startswith(b"data: "):
                            i, ts = line[6:].split()
                            events.append((int(i), int(ts), now))
        finally:
            w.close()
        if [e[0] for e in events] != list(range(n)):
            return None, f"got events {[e[0] for e in events][:5]}... ({len(events)} of {n})"
        ttfe = (events[0][2] - t0) / 1e6
        delays = [(arr - sent) / 1e6 for _, sent, arr in events[1:]]
        return (ttfe, delays), None

    async def sse_round(self, port, conc, n, ms):
        tasks = [asyncio.wait_for(self.sse_stream(port, n, ms), n * ms / 1000 + 15) for _ in range(conc)]
        out = []
        for res in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(res, BaseException):
                out.append((None, repr(res)[:100]))
            else:
                out.append(res)
        return out

    def s6(self, hub):
        tg = self.targets("pyup", hub)
        n, ms, conc = 20, 50, 4
        rounds = 2 if self.quick else 6
        stats = {}
        live = [(name, self.port_of(t)) for name, t in tg if not isinstance(t, SlimeUnavailable)]
        acc = {name: ([], [], []) for name, _ in live}         # ttfe, delays, errors
        for name, port in live:
            if name == "slime":
                # short streams, each on a new connection as in the rounds: the path the rounds measure
                wrk(port, "/sse?n=2&ms=0", 4, self.slime_warm, tag="warm", headers=("Connection: close",))
            asyncio.run(self.sse_round(port, conc, 5, 10))      # warm-up
        for _ in range(rounds):                                 # rounds interleave the targets
            for name, port in live:
                ttfe, delays, errs = acc[name]
                for res, err in asyncio.run(self.sse_round(port, conc, n, ms)):
                    if err:
                        errs.append(err)
                    else:
                        ttfe.append(res[0])
                        delays.extend(res[1])
        for name, (ttfe, delays, errs) in acc.items():
            stats[name] = {"ttfe": statistics.median(ttfe) if ttfe else None,
                           "d50": pct(delays, 50), "d99": pct(delays, 99), "dmax": max(delays) if delays else None,
                           "errors": len(errs)}
            if errs:
                self.res.note(6, f"{name}: {len(errs)} of {rounds * conc} streams failed, e.g. {errs[0]}")
            log(f"s6 {name}: ttfe {stats[name]['ttfe']} ms, event delay p50 {stats[name]['d50']} "
                f"p99 {stats[name]['d99']} ms, errors {len(errs)}")
        g = lambda nm, k: stats[nm][k] if nm in stats else self.na(dict(tg)[nm])   # noqa: E731
        label = f"{rounds} x {conc} streams of {n} events {ms} ms apart"
        s, d = g("slime", "ttfe"), g("direct", "ttfe")
        self.res.add(6, f"SSE time to first event, median ms ({label})", d, g("haproxy", "ttfe"), s,
                     fmt="{:.2f}", ratio="add", target="≤ +5 ms vs direct",
                     result=verdict(s - d <= 5 if num(s) and num(d) else None),
                     ratio_d=(f"+{s - d:.2f} ms" if num(s) and num(d) else ""))
        for key, lab in (("d50", "p50"), ("d99", "p99")):
            s, d = g("slime", key), g("direct", key)
            self.res.add(6, f"  later events: delay upstream write -> client, {lab} ms", d, g("haproxy", key), s,
                         fmt="{:.2f}", ratio="add", ratio_d=(f"+{s - d:.2f} ms" if num(s) and num(d) else ""),
                         target="≤ +5 ms vs direct" if key == "d99" else "",
                         result=verdict(s - d <= 5 if num(s) and num(d) else None) if key == "d99" else "")
        self.res.add(6, "  failed streams", g("direct", "errors"), g("haproxy", "errors"), g("slime", "errors"),
                     fmt="{:d}", target="0",
                     result=verdict(g("slime", "errors") == 0 if num(g("slime", "errors")) else None))

    # ---- scenario 7
    def s7(self):
        sizes = [1000] if self.quick else [1000, 10000]
        try:
            self.s7_idle(sizes)
        except SlimeUnavailable as e:
            if str(e) != self.slime.dead_reason:
                self.res.note(7, f"slime not available for the idle-worker test: {e}")
            for sz in sizes:
                self.res.add(7, f"{sz:,} idle workers: hub heap per worker, KB", s="n/a",
                             target="≤ 20 KB", result="n/a")
        nreq = 1000 if self.quick else 10000
        try:
            self.s7_blocked(nreq)
        except SlimeUnavailable as e:
            if str(e) != self.slime.dead_reason:
                self.res.note(7, f"slime not available for the blocked-requests test: {e}")
            self.res.add(7, f"{nreq:,} blocked requests held then served", s="n/a", result="n/a")

    def measure_hub(self, hub):
        pid = hub.java()
        heap = heap_used_kb(self.jcmd, pid)
        time.sleep(0.3)
        return rss_kb(pid) if pid else None, heap

    def s7_idle(self, sizes):
        tag = "s7idle"
        hub = self.slime.start_hub(tag)
        per_agent = 2500
        try:
            self.slime.start_agent(hub, tag, self.nginx_port, 1, idx=0)
            self.slime.wait_serving(hub, "/small", SMALL_BODY)
            for _ in range(20):
                http_get(hub.port, "/small", {"Slime-Block": "1"})
            self.slime.wait_workers(hub, 1, 10)
            time.sleep(1)
            base_rss, base_heap = self.measure_hub(hub)
            log(f"s7 baseline (1 worker): RSS {base_rss} KB, heap {base_heap} KB")
            self.res.note(7, f"hub baseline with 1 worker connected: RSS {base_rss} KB, heap after GC "
                             f"{base_heap} KB (jcmd {self.jcmd})")
            total, idx = 1, 1
            for sz in sizes:
                need = sz - total
                t0 = time.time()
                while need > 0:
                    k = min(per_agent, need)
                    self.slime.start_agent(hub, tag, self.nginx_port, k, idx=idx)
                    idx += 1
                    need -= k
                    total += k
                seen = self.slime.wait_workers(hub, sz, 60 + sz / 50)
                took = time.time() - t0
                time.sleep(2)
                rss, heap = self.measure_hub(hub)
                log(f"s7 {sz} workers ({seen} connected in {took:.1f} s): RSS {rss} KB, heap {heap} KB")
                n_conn = max(min(seen, sz) - 1, 1)
                r_pw = (rss - base_rss) / n_conn if num(rss) and num(base_rss) else None
                h_pw = (heap - base_heap) / n_conn if num(heap) and num(base_heap) else None
                if seen < sz:
                    self.res.note(7, f"only {seen} of {sz} worker connections established after {took:.0f} s; "
                                     "per-worker figures divide by the connected count")
                try:
                    st, _, b = http_get(hub.port, "/small", {"Slime-Block": "1"}, timeout=10)
                    if st != 200 or b != SMALL_BODY.encode():
                        self.res.note(7, f"with {sz} idle workers a request got {st} {b[:60]!r}")
                except Exception as e:     # noqa: BLE001
                    self.res.note(7, f"with {sz} idle workers a request failed: {e!r}")
                self.res.add(7, f"{sz:,} idle workers ({seen:,} connected): hub heap per worker after GC, KB "
                                f"(minus 1-worker baseline)", s=h_pw, fmt="{:.1f}",
                             target="≤ 20 KB (Go Slime: 39 KB)", result=verdict(h_pw <= 20 if num(h_pw) else None))
                self.res.add(7, "  hub RSS per worker, KB (minus baseline)", s=r_pw, fmt="{:.1f}",
                             target="≤ 20 KB", result=verdict(r_pw <= 20 if num(r_pw) else None))
        finally:
            dead = hub.dead()
            if dead:
                self.res.note(7, "slime process(es) exited during the idle-worker test: " + ", ".join(dead))
            for a in hub.agents:
                a.stop()
            hub.proc.stop()
            self.slime.log_notes(tag, hub)

    def s7_blocked(self, nreq):
        workers = 16
        with self.slime.topology("s7block", self.pyup_port, workers, "/small", "pyup-small-ok\n") as hub:
            rss0, heap0 = self.measure_hub(hub)
            http_get(self.pyup_port, "/__ctl/close-gate")
            try:
                out = asyncio.run(self.s7_clients(hub, nreq, workers))
            finally:
                http_get(self.pyup_port, "/__ctl/open-gate")
            rss1, heap1 = out["rss_held"], out["heap_held"]
            rss2, heap2 = self.measure_hub(hub)
            c = out["counts"]
            log(f"s7 blocked: {out}")
            held_ok = out["early"] == 0 and out["sent"] == nreq
            self.res.add(7, f"{nreq:,} requests with Slime-Block, {workers} workers held at a gated upstream: "
                            "answered before release", s=out["early"], fmt="{:d}", target="0 (all held)",
                         result=verdict(held_ok))
            lost = nreq - c.get("ok", 0)
            self.res.add(7, "  then served correctly after release (lost or wrong)",
                         s=f"{c.get('ok', 0):,} ({lost:,} lost/wrong) in {out['serve_s']:.1f} s",
                         target=f"all {nreq:,}, none lost", result=verdict(lost == 0))
            if num(heap1) and num(heap0):
                self.res.add(7, "  hub heap while held, KB per waiting request (after GC, minus before)",
                             s=(heap1 - heap0) / nreq, fmt="{:.1f}", target="bounded")
            self.res.add(7, "  hub heap after GC: before / held / after, MB",
                         s="/".join(f"{v / 1024:.0f}" if num(v) else "?" for v in (heap0, heap1, heap2)),
                         target="returns near before",
                         result=verdict(heap2 <= heap0 * 1.5 + 20 * 1024 if num(heap2) and num(heap0) else None))
            self.res.note(7, f"blocked test: RSS before/held/after {rss0}/{rss1}/{rss2} KB; outcomes {c}; "
                             f"{out['sent']} of {nreq} requests sent in {out['send_s']:.1f} s; "
                             f"upstream saw {out['gate_waiting']} requests parked at the gate while held")

    async def s7_clients(self, hub, nreq, workers):
        sem = asyncio.Semaphore(200)
        state = {"sent": 0, "answered": 0}
        counts = {}
        req = req_bytes("/gate", {"Slime-Block": "1"})

        async def one(i):
            w = None
            try:
                for attempt in range(5):
                    try:
                        async with sem:
                            r, w = await asyncio.wait_for(
                                asyncio.open_connection("127.0.0.1", hub.port), 20)
                        break
                    except (OSError, asyncio.TimeoutError):
                        if attempt == 4:
                            return "connect-failed"
                        await asyncio.sleep(0.5)
                w.write(req)
                await w.drain()
                state["sent"] += 1
                st, h = await read_head(r)
                state["answered"] += 1
                body = b"".join([c async for c in body_chunks(r, h)])
                if st == 200 and body == b"gate-ok\n":
                    return "ok"
                return f"status-{st}"
            except asyncio.IncompleteReadError:
                state["answered"] += 1
                return "closed-without-answer"
            except (OSError, ValueError) as e:
                return f"error-{type(e).__name__}"
            finally:
                if w is not None:
                    w.close()

        t0 = time.time()
        tasks = [asyncio.create_task(one(i)) for i in range(nreq)]
        while state["sent"] < nreq and time.time() - t0 < 120 and not all(t.done() for t in tasks):
            await asyncio.sleep(0.2)
        send_s = time.time() - t0
        await asyncio.sleep(2)
        early = state["answered"]
        st = json.loads(http_get(self.pyup_port, "/__ctl/stats")[2])
        rss_held, heap_held = await asyncio.to_thread(self.measure_hub, hub)
        early = max(early, state["answered"])
        await asyncio.to_thread(http_get, self.pyup_port, "/__ctl/open-gate")
        t1 = time.time()
        done, pending = await asyncio.wait(tasks, timeout=180)
        serve_s = time.time() - t1
        for t in pending:
            t.cancel()
        for t in done:
            k = t.result() if not t.exception() else f"exc-{type(t.exception()).__name__}"
            counts[k] = counts.get(k, 0) + 1
        if pending:
            counts["no-answer-within-180s"] = len(pending)
        return {"sent": state["sent"], "early": early, "send_s": send_s, "serve_s": serve_s, "counts": counts,
                "rss_held": rss_held, "heap_held": heap_held, "gate_waiting": st["gate_waiting"]}

    # ---- scenario 8
    async def abort_client(self, port, i, hold_deadline):
        kind = "queued" if i % 10 == 9 else ("big" if i % 2 == 0 else "sse")
        rst = (i // 2) % 2 == 1
        path = {"big": "/big?size=16777216&chunk=16384&ms=10", "sse": "/sse?n=500&ms=20",
                "queued": "/big?size=16777216&chunk=16384&ms=10"}[kind]
        w = None
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
            w.write(req_bytes(path, {"Slime-Block": "1"}))
            await w.drain()
            if kind == "queued":
                await asyncio.sleep(0.005)
                abort_writer(w, rst)
                w = None
                return "aborted"
            st, h = await asyncio.wait_for(read_head(r), hold_deadline)
            if st != 200:
                return f"status-{st}"
            got = 0
            want = 65536 if kind == "big" else 2
            agen = body_chunks(r, h)
            while got < want:
                c = await asyncio.wait_for(agen.__anext__(), 10)
                got += len(c) if kind == "big" else c.count(b"\n\n")
            abort_writer(w, rst)
            w = None
            return "aborted"
        except StopAsyncIteration:
            return "body-ended-early"
        except asyncio.TimeoutError:
            return "timeout"
        except (OSError, ValueError, asyncio.IncompleteReadError) as e:
            return f"error-{type(e).__name__}"
        finally:
            if w is not None:
                w.close()

    async def storm(self, port, n, conc, budget):
        sem = asyncio.Semaphore(conc)
        probe = {"ok": 0, "fail": 0, "max_ms": 0.0}
        stop = asyncio.Event()

        async def guarded(i):
            async with sem:
                return await self.abort_client(port, i, 20)

        async def prober():
            while not stop.is_set():
                t = time.monotonic()
                try:
                    st, _, b = await fetch(port, "/small", {"Slime-Block": "1"}, timeout=20)
                    ok = st == 200 and b == b"pyup-small-ok\n"
                except Exception:       # noqa: BLE001
                    ok = False
                probe["ok" if ok else "fail"] += 1
                probe["max_ms"] = max(probe["max_ms"], (time.monotonic() - t) * 1000)
                await asyncio.sleep(0.1)

        pt = asyncio.create_task(prober())
        t0 = time.time()
        tasks = [asyncio.create_task(guarded(i)) for i in range(n)]
        done, pending = await asyncio.wait(tasks, timeout=budget)
        for t in pending:
            t.cancel()
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pt, 25)
        counts = {}
        for t in done:
            k = t.result() if not t.exception() else f"exc-{type(t.exception()).__name__}"
            counts[k] = counts.get(k, 0) + 1
        if pending:
            counts["unfinished-at-budget"] = len(pending)
        return counts, time.time() - t0, probe

    async def burst(self, port, n, hold_ms):
        async def one():
            t = time.monotonic()
            try:
                st, _, b = await fetch(port, f"/hold?ms={hold_ms}", {"Slime-Block": "1"}, timeout=30)
                ok = st == 200 and b == b"hold-ok\n"
            except Exception:       # noqa: BLE001
                ok = False
            return ok, (time.monotonic() - t) * 1000
        return await asyncio.gather(*[one() for _ in range(n)])

    def s8(self, hub, workers):
        tg = self.targets("pyup", hub)
        n, conc, hold = (500 if self.quick else 1000), 100, 300
        stats = {}
        for name, t in tg:
            if isinstance(t, SlimeUnavailable):
                continue
            port = self.port_of(t)
            counts, took, probe = asyncio.run(self.storm(port, n, conc, 90))
            errors = n - counts.get("aborted", 0)
            # every upstream request should be cancelled once its client is gone
            t_end = time.time() + 15
            st = json.loads(http_get(self.pyup_port, "/__ctl/stats")[2])
            while st["active"] > 0 and time.time() < t_end:
                time.sleep(0.2)
                st = json.loads(http_get(self.pyup_port, "/__ctl/stats")[2])
            left = st["active"]
            drain_s = 15 - max(0, t_end - time.time())
            b = asyncio.run(self.burst(port, workers, hold))
            b_ok = sum(1 for ok, _ in b if ok)
            b_max = max(ms for _, ms in b)
            alive = "yes" if not (isinstance(t, Hub) and t.dead()) else "NO"
            stats[name] = {"errors": errors, "left": left, "b_ok": b_ok, "b_max": b_max, "took": took,
                           "probe_fail": probe["fail"], "probe_max": probe["max_ms"]}
            log(f"s8 {name}: storm {counts} in {took:.1f} s, probes {probe}, upstream open after: {left} "
                f"({drain_s:.1f} s), burst {b_ok}/{workers} ok, max {b_max:.0f} ms, alive {alive}")
            self.res.note(8, f"{name}: storm outcomes {counts} in {took:.1f} s; probe /small during storm: "
                             f"{probe['ok']} ok, {probe['fail']} failed, slowest {probe['max_ms']:.0f} ms; "
                             f"upstream requests still open after the storm: {left}")
        g = lambda nm, k: stats[nm][k] if nm in stats else self.na(dict(tg)[nm])   # noqa: E731
        e = g("slime", "errors")
        self.res.add(8, f"abort storm: {n:,} clients ({conc} at once) abort slow downloads, event streams, "
                        "queued requests: errors beyond the aborts", g("direct", "errors"), g("haproxy", "errors"),
                     e, fmt="{:d}", target="0", result=verdict(e == 0 if num(e) else None))
        e = g("slime", "probe_fail")
        self.res.add(8, "  probe requests failed during the storm (hub keeps serving)", g("direct", "probe_fail"),
                     g("haproxy", "probe_fail"), e, fmt="{:d}", target="0",
                     result=verdict(e == 0 if num(e) else None))
        self.res.add(8, "  upstream requests still open after storm (+15 s)", g("direct", "left"),
                     g("haproxy", "left"), g("slime", "left"), fmt="{:d}")
        s_ok, s_max = g("slime", "b_ok"), g("slime", "b_max")
        self.res.add(8, f"  then burst of {workers} blocked {hold} ms requests ({workers} workers): ok", 
                     g("direct", "b_ok"), g("haproxy", "b_ok"), s_ok, fmt="{:d}", target=f"{workers}",
                     result=verdict(s_ok == workers if num(s_ok) else None))
        self.res.add(8, "  burst slowest request, ms (one round: all workers idle)", g("direct", "b_max"),
                     g("haproxy", "b_max"), s_max, fmt="{:.0f}", target=f"< {2 * hold} ms",
                     result=verdict(s_max < 2 * hold if num(s_max) else None))

    # ---- scenario 9
    def s9(self, hub):
        tg = self.targets("pyup", hub)
        stats = {}
        for name, t in tg:
            if isinstance(t, SlimeUnavailable):
                continue
            port = self.port_of(t)
            conns = 16 if name == "slime" else 1
            wrk(port, "/instr", conns, self.slime_warm if name == "slime" else 2, expect="instr-ok\n", tag="warm")
            http_get(self.pyup_port, "/__ctl/reset")
            r = wrk(port, "/instr", conns, self.short, expect="instr-ok\n", tag=f"s9-{name}")
            rec = json.loads(http_get(self.pyup_port, "/__ctl/stats?instr=1")[2])["instr"]
            rec.sort()
            gaps = [(rec[i + 1][0] - rec[i][1]) / 1e6 for i in range(len(rec) - 1)]
            overlap = sum(1 for g_ in gaps if g_ < 0)
            gaps = [g_ for g_ in gaps if g_ >= 0]
            stats[name] = {"p50": pct(gaps, 50), "p99": pct(gaps, 99), "n": len(rec), "overlap": overlap,
                           "errors": r["errors"]}
            self.wrk_err_note(9, name, r)
            if overlap and name == "slime":
                self.res.note(9, f"slime: {overlap} upstream requests overlapped the previous one although the "
                                 "agent has 1 worker")
            log(f"s9 {name}: {stats[name]}")
        g = lambda nm, k: stats[nm][k] if nm in stats else self.na(dict(tg)[nm])   # noqa: E731
        self.res.add(9, "dispatch gap: upstream finished response i -> request i+1 arrives, p50 ms "
                        "(slime: 1 worker, 16 blocked conns; references: 1 conn, i.e. client round trip)",
                     g("direct", "p50"), g("haproxy", "p50"), g("slime", "p50"), fmt="{:.3f}")
        s = g("slime", "p99")
        self.res.add(9, "  p99 ms", g("direct", "p99"), g("haproxy", "p99"), s, fmt="{:.3f}", target="≤ 2 ms",
                     result=verdict(s <= 2 if num(s) else None))
        self.res.add(9, "  requests measured", g("direct", "n"), g("haproxy", "n"), g("slime", "n"), fmt="{:,d}")

    # ---- driver
    def group(self, tag, kind, workers, fn):
        """Runs fn(hub_or_unavailable) with a slime topology in front of the nginx or pyup upstream."""
        port = self.nginx_port if kind == "nginx" else self.pyup_port
        path, body = ("/small", SMALL_BODY) if kind == "nginx" else ("/small", "pyup-small-ok\n")
        try:
            with self.slime.topology(tag, port, workers, path, body) as hub:
                try:
                    fn(hub)
                except Exception as e:      # noqa: BLE001
                    # a failure caused by slime dying or refusing is a finding, not a harness error
                    if hub.dead() or (isinstance(e, BenchError) and f":{hub.port}" in str(e)):
                        self.res.note(int(tag[1]), f"scenario incomplete, slime failed: {e!r}; dead: {hub.dead()}")
                        log(f"{tag}: slime failed: {e!r}")
                        return
                    raise
                return
        except SlimeUnavailable as e:
            log(f"slime not available for {tag}: {e}")
            if str(e) != self.slime.dead_reason:
                self.res.note(int(tag[1]), f"slime not available: {e}")
            fn(e)

    def run(self):
        sel = self.args.scenarios
        self.start_references()
        self.machine_info()
        log(f"mode {'quick' if self.quick else 'full'}, scenarios {sorted(sel)}, JDK {self.machine['java']}")
        steps = []
        if sel & {1, 2, 5}:
            def a(hub):
                if sel & {1, 5}:
                    self.s1_s5(hub, 1 in sel, 5 in sel)
                if 2 in sel:
                    self.s2(hub)
            steps.append(("s1", "nginx", 64, a))
        if 3 in sel:
            steps.append(("s3", "nginx", 4, self.s3))
        if 4 in sel:
            steps.append(("s4", "nginx", 8, self.s4))
        if 6 in sel:
            steps.append(("s6", "pyup", 4, self.s6))
        if 7 in sel:
            steps.append(("s7", None, None, None))
        if 8 in sel:
            steps.append(("s8", "pyup", 32, lambda hub: self.s8(hub, 32)))
        if 9 in sel:
            steps.append(("s9", "pyup", 1, self.s9))
        for tag, kind, workers, fn in steps:
            scn = int(tag[1])
            for attempt in (1, 2):
                log(f"=== {tag}" + (" (second attempt)" if attempt == 2 else ""))
                marks = (len(self.res.rows), len(self.res.notes), len(self.slime.notes), self.slime.dead_reason)
                kills0 = len(EXTERNAL_KILLS)
                err = None
                try:
                    if tag == "s7":
                        self.s7()
                    else:
                        self.group(tag, kind, workers, fn)
                except Exception as e:     # noqa: BLE001 - record and go on with the other scenarios
                    err = (e, traceback.format_exc())
                killed = EXTERNAL_KILLS[kills0:]
                if killed and attempt == 1:
                    # Someone else on the machine killed a slime process: discard this attempt, run it again.
                    del self.res.rows[marks[0]:]
                    del self.res.notes[marks[1]:]
                    del self.slime.notes[marks[2]:]
                    self.slime.dead_reason = marks[3]
                    self.slime.hub_failures = 0
                    self.res.note(scn, f"first attempt discarded: {killed} (process, exit code, noticed at) died "
                                       "of a signal this harness did not send; scenario repeated")
                    log(f"{tag}: slime process(es) killed from outside: {killed}; repeating the scenario")
                    continue
                if err and killed:
                    self.res.note(scn, f"slime process(es) killed from outside again {killed}; scenario "
                                       f"incomplete: {err[0]!r}")
                elif err:
                    log(f"harness error in {tag}: {err[1]}")
                    self.harness_errors.append(f"{tag}: {err[0]!r}")
                    self.res.note(scn, f"HARNESS ERROR: {err[0]!r} (traceback in the run's output)")
                break
            for p in (self.nginx, self.pyup, self.haproxy):
                if not p.alive():
                    raise BenchError(f"reference process {p.name} died: {p.tail(5)}")
        for tag, n in self.slime.notes:
            self.res.note(int(tag[1]), f"slime {n}")
        if self.slime.dead_reason:
            self.res.note(0, f"slime rows not available: {SlimeUnavailable(self.slime.dead_reason)}")

    def report(self):
        m = self.machine
        with contextlib.suppress(OSError):
            m["load_end"] = open("/proc/loadavg").read().split()[:3]
        head = [f"# slime benchmark results ({m.get('mode')} mode)", "",
                f"- date: {m.get('date')}",
                f"- commit: {m.get('commit')}",
                f"- machine: {m.get('nproc')} cores ({m.get('cpu')}), {m.get('memory')} memory, "
                f"kernel {m.get('kernel')}; load average (1/5/15 min) at start {' '.join(m.get('load_start', []))}, "
                f"at end {' '.join(m.get('load_end', []))} (other work on the machine skews absolute figures)",
                f"- java (for slime): {m.get('java')} [{m.get('java_home')}]"
                + (f", SLIME_JAVA_OPTS={m['slime_java_opts']}" if m.get("slime_java_opts") else ""),
                f"- slime jar: {self.slime.jar_info or 'not built'}",
                f"- references: {m.get('nginx')}, {m.get('haproxy')}, {m.get('wrk')}",
                f"- scenarios: {','.join(str(s) for s in sorted(self.args.scenarios))}; "
                f"command: bench/run {' '.join(sys.argv[1:])}",
                "", "Ratios compare slime with references measured in this same run. PASS/MISS is judged on "
                "the slime column only; n/a means not measured (reason in the notes).", ""]
        notes = ["", "## Notes", ""]
        for scn, text in self.res.notes:
            notes.append(f"- {'general' if scn == 0 else 'scenario ' + str(scn)}: {text}")
        if self.harness_errors:
            notes.append(f"- HARNESS ERRORS: {self.harness_errors}")
        if len(notes) == 3:
            notes.append("- none")
        text = "\n".join(head) + self.res.table() + "\n" + "\n".join(notes) + "\n"
        with open(os.path.join(BENCH, "RESULTS.md"), "w") as f:
            f.write(text)
        with open(os.path.join(WORK, "results.json"), "w") as f:
            json.dump({"machine": m, "rows": self.res.rows, "notes": self.res.notes}, f, indent=1, default=str)
        print(text)



def parse_args():
    ap = argparse.ArgumentParser(prog="bench/run", description="slime benchmark (see bench/README.md)")
    ap.add_argument("--quick", action="store_true", help="short smoke version (1 x 5 s runs, 1,000-scale tests)")
    ap.add_argument("--scenarios", default="1,2,3,4,5,6,7,8,9", help="comma-separated subset, e.g. 1,3,6")
    ap.add_argument("--java", help="JDK home for slime (default: $JAVA_HOME, else what bin/slime picks: the newest JDK in /usr/lib/jvm)")
    ap.add_argument("--commit", metavar="REV",
                    help="build slime from a clean checkout of this commit (e.g. HEAD) under bench/work/src "
                         "instead of from the work tree")
    ap.add_argument("--jar", help="use this prebuilt slime.jar instead of the one bin/slime builds in the work tree")
    a = ap.parse_args()
    try:
        a.scenarios = {int(x) for x in a.scenarios.split(",") if x.strip()}
    except ValueError:
        ap.error("--scenarios takes numbers 1-9 separated by commas")
    if not a.scenarios or not a.scenarios <= set(range(1, 10)):
        ap.error("--scenarios takes numbers 1-9")
    if a.jar:
        a.jar = os.path.abspath(a.jar)
        if not os.path.isfile(a.jar):
            ap.error(f"--jar {a.jar}: no such file")
    if a.java and not os.path.exists(os.path.join(a.java, "bin", "java")):
        ap.error(f"--java {a.java}: no bin/java there")
    return a


def main():
    args = parse_args()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = max(soft, min(hard, 200000))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    os.makedirs(LOGS, exist_ok=True)
    for f in os.listdir(LOGS):
        with contextlib.suppress(OSError):
            os.remove(os.path.join(LOGS, f))
    t0 = time.time()
    b = None
    try:
        ensure_tools()
        b = Bench(args)
        b.run()
        b.report()
    except BenchError as e:
        log(f"HARNESS FAILED: {e}")
        return 2
    finally:
        cleanup()
        log(f"finished in {time.time() - t0:.0f} s; logs in bench/work/logs/")
    if b.harness_errors:
        log(f"harness errors: {b.harness_errors}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
