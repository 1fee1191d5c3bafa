"""Scenario 2: scenario 1 without Slime-Block (64 workers for 64 connections): 503s and wrong bodies."""
from ..common import SMALL_BODY, log
from ..load import wrk
from ..slime import SlimeUnavailable
from .s1_small_get import WORKERS    # runs in scenario 1's topology

CONNS = 64


def run(b, hub):
    tg = b.endpoints("nginx", hub)
    res = {}
    for name, t in tg:
        if isinstance(t, SlimeUnavailable):
            continue
        r = wrk(b.port_of(t), "/small", CONNS, b.short, expect=SMALL_BODY, block=False,
                agent=(name == "slime"), tag=f"s2-{name}")
        res[name] = r
        b.wrk_err_note(2, name, r)
        log(f"s2 {name}: {r['ok']} ok, {r['s503']} 503, {r['bad']} wrong, {r['other']} other, "
            f"{r['sockerr']} socket errors")
    g = b.figures(res, tg)
    b.res.add(2, f"small GET without Slime-Block, {CONNS} conns, {WORKERS} workers ({b.short} s): 503 answers",
              g("direct", "s503"), g("haproxy", "s503"), g("slime", "s503"), fmt="{:d}", target="s2.503")
    bad = {n: (res[n]["bad"] + res[n]["other"]) for n in res}
    b.res.add(2, "  wrong bodies and other non-200", bad.get("direct"), bad.get("haproxy"),
              bad.get("slime", b.na(dict(tg)["slime"])), fmt="{:d}", target="s2.bad")
    b.res.add(2, "  valid req/s", g("direct", "rps"), g("haproxy", "rps"), g("slime", "rps"),
              fmt="{:,.0f}", ratio="pct")
