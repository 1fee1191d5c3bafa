"""Scenario 1: small GET, 64 connections, Slime-Block: 1, one agent with 64 workers: valid req/s and p99.
Its runs also give scenario 5's CPU figures (s5_cpu.py)."""
from ..common import SMALL_BODY, log
from ..load import wrk
from ..measure import CLK_TCK, cpu_ticks
from ..slime import SlimeUnavailable

CONNS = 64
WORKERS = 64


def measure(b, hub):
    """Best of b.reps runs per target (interleaved), with CPU per request; returns (best, targets)."""
    tg = b.endpoints("nginx", hub)
    best, runs = {}, {}
    for name, t in tg:
        if isinstance(t, SlimeUnavailable):
            continue
        wrk(b.port_of(t), "/small", CONNS, b.slime_warm if name == "slime" else b.warm,
            expect=SMALL_BODY, tag="warm")
    for rep in range(b.reps):
        for name, t in tg:
            if isinstance(t, SlimeUnavailable):
                continue
            pids = b.cpu_pids(name, t)
            c0 = cpu_ticks(pids)
            r = wrk(b.port_of(t), "/small", CONNS, b.dur, expect=SMALL_BODY, agent=(name == "slime"),
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
        b.wrk_err_note(1, name, best[name])
        tot_err = sum(r["errors"] for r in rs)
        if tot_err != best[name]["errors"]:
            b.res.note(1, f"{name}: {tot_err} errors over all repetitions")
    return best, tg


def rows(b, best, tg):
    g = b.figures(best, tg)
    b.res.add(1, f"small GET, {CONNS} conns, Slime-Block, {WORKERS} workers: valid req/s (best of {b.reps}"
                 f" x {b.dur} s; p99 and CPU: lowest of the runs)", g("direct", "rps"), g("haproxy", "rps"),
              g("slime", "rps"), fmt="{:,.0f}", ratio="pct", target="s1.rps")
    b.res.add(1, "  p99 latency, ms", g("direct", "p99_ms"), g("haproxy", "p99_ms"), g("slime", "p99_ms"),
              fmt="{:.2f}", ratio="x", target="s1.p99")
    b.res.add(1, "  errors (wrong body, non-200, socket)", g("direct", "errors"),
              g("haproxy", "errors"), g("slime", "errors"), fmt="{:d}")
