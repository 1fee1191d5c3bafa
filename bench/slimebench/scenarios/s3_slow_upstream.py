"""Scenario 3: slow upstream (nginx `echo_sleep 0.05` on /slow), 4 workers, 32 blocked connections. The
references have no 4-worker limit: shown for scale only."""
from ..common import SLOW_BODY, log, num
from ..load import wrk
from ..slime import SlimeUnavailable

WORKERS = 4
CONNS = 32
SLOW_MS = 50                                   # nginx.conf.in: echo_sleep 0.05
IDEAL_RPS = WORKERS * 1000 / SLOW_MS           # every worker always busy
IDEAL_P99_MS = CONNS / WORKERS * SLOW_MS       # each request waits for the ones queued before it


def run(b, hub):
    tg = b.endpoints("nginx", hub)
    res = {}
    for name, t in tg:
        if isinstance(t, SlimeUnavailable):
            continue
        if name == "slime":
            # /slow's own response without the wait: the JIT sees the measured path thousands of times
            wrk(b.port_of(t), "/slow-now", CONNS, b.slime_warm, expect=SLOW_BODY, tag="warm")
            wrk(b.port_of(t), "/slow", CONNS, 2, expect=SLOW_BODY, tag="warm")
        r = wrk(b.port_of(t), "/slow", CONNS, b.dur, expect=SLOW_BODY, agent=(name == "slime"),
                tag=f"s3-{name}")
        res[name] = r
        b.wrk_err_note(3, name, r)
        log(f"s3 {name}: {r['rps']:.1f} valid req/s, p99 {r['p99_ms']:.1f} ms, errors {r['errors']}")
    g = b.figures(res, tg)
    s = g("slime", "rps")
    b.res.add(3, f"slow upstream {SLOW_MS} ms, {CONNS} blocked conns, {WORKERS} workers: valid req/s ({b.dur} s; "
                 "references have no worker limit)", g("direct", "rps"), g("haproxy", "rps"), s,
              fmt="{:.1f}", ratio_d=(f"{100 * s / IDEAL_RPS:.1f}% of ideal {IDEAL_RPS:g}" if num(s) else ""),
              target="s3.rps", figures={"ideal": IDEAL_RPS})
    s = g("slime", "p99_ms")
    b.res.add(3, "  p99 latency, ms", g("direct", "p99_ms"), g("haproxy", "p99_ms"), s, fmt="{:.1f}",
              ratio_d=(f"{s / IDEAL_P99_MS:.2f}x of ideal {IDEAL_P99_MS:g} ms" if num(s) else ""),
              target="s3.p99", figures={"ideal": IDEAL_P99_MS})
