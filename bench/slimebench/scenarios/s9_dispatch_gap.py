"""Scenario 9: dispatch gap. 1 worker, 16 blocked connections to pyup.py /instr, which records when it
finished writing response i and when request i+1 arrived. The references run with 1 connection: their
gap is just a client round trip, shown for scale."""
import json

from ..common import log
from ..load import http_get, wrk
from ..measure import pct
from ..slime import SlimeUnavailable

WORKERS = 1
SLIME_CONNS, REFERENCE_CONNS = 16, 1


def run(b, hub):
    tg = b.endpoints("pyup", hub)
    pyup = b.refs.pyup_port
    stats = {}
    for name, t in tg:
        if isinstance(t, SlimeUnavailable):
            continue
        port = b.port_of(t)
        conns = SLIME_CONNS if name == "slime" else REFERENCE_CONNS
        wrk(port, "/instr", conns, b.slime_warm if name == "slime" else 2, expect="instr-ok\n", tag="warm")
        http_get(pyup, "/__ctl/reset")
        r = wrk(port, "/instr", conns, b.short, expect="instr-ok\n", tag=f"s9-{name}")
        rec = json.loads(http_get(pyup, "/__ctl/stats?instr=1")[2])["instr"]
        rec.sort()
        gaps = [(rec[i + 1][0] - rec[i][1]) / 1e6 for i in range(len(rec) - 1)]
        overlap = sum(1 for g_ in gaps if g_ < 0)
        gaps = [g_ for g_ in gaps if g_ >= 0]
        stats[name] = {"p50": pct(gaps, 50), "p99": pct(gaps, 99), "n": len(rec), "overlap": overlap,
                       "errors": r["errors"]}
        b.wrk_err_note(9, name, r)
        if overlap and name == "slime":
            b.res.note(9, f"slime: {overlap} upstream requests overlapped the previous one although the "
                          f"agent has {WORKERS} worker")
        log(f"s9 {name}: {stats[name]}")
    g = b.figures(stats, tg)
    b.res.add(9, "dispatch gap: upstream finished response i -> request i+1 arrives, p50 ms "
                 f"(slime: {WORKERS} worker, {SLIME_CONNS} blocked conns; references: {REFERENCE_CONNS} conn, "
                 "i.e. client round trip)", g("direct", "p50"), g("haproxy", "p50"), g("slime", "p50"),
              fmt="{:.3f}")
    b.res.add(9, "  p99 ms", g("direct", "p99"), g("haproxy", "p99"), g("slime", "p99"), fmt="{:.3f}",
              target="s9.p99")
    b.res.add(9, "  requests measured", g("direct", "n"), g("haproxy", "n"), g("slime", "n"), fmt="{:,d}")
