"""Scenario 4: 1 MiB downloads (nginx static file, body compared byte for byte) and 1 MiB uploads (POST,
nginx reads the body and answers `upload-ok <Content-Length>`), 8 connections, 8 workers: MiB/s."""
from ..common import MIB, log
from ..load import wrk
from ..slime import SlimeUnavailable

WORKERS = 8
CONNS = 8


def run(b, hub):
    tg = b.endpoints("nginx", hub)
    reps = 1 if b.quick else 2
    for kind in ("download", "upload"):
        runs = {}
        kw = dict(expect_file=b.refs.file_1m) if kind == "download" else \
            dict(expect=f"upload-ok {MIB}\n", upload=MIB)
        path = "/1m" if kind == "download" else "/upload"
        for name, t in tg:
            if isinstance(t, SlimeUnavailable):
                continue
            if name == "slime":
                wrk(b.port_of(t), path, CONNS, b.slime_warm, tag="warm", **kw)
        for rep in range(reps):
            for name, t in tg:
                if isinstance(t, SlimeUnavailable):
                    continue
                r = wrk(b.port_of(t), path, CONNS, b.short, agent=(name == "slime"), timeout_s=30,
                        tag=f"s4-{kind}-{name}-{rep}", **kw)
                r["mibs"] = r["ok"] * MIB / MIB / r["secs"] if r["secs"] else 0
                runs.setdefault(name, []).append(r)
                log(f"s4 {kind} {name}: {r['mibs']:.0f} MiB/s, errors {r['errors']}")
        best = {n: max(rs, key=lambda r: r["mibs"]) for n, rs in runs.items()}
        for n, r in best.items():
            b.wrk_err_note(4, f"{kind} {n}", r)
        g = b.figures(best, tg)
        b.res.add(4, f"1 MiB {kind}s, {CONNS} conns, {WORKERS} workers: MiB/s (best of {reps} x {b.short} s)",
                  g("direct", "mibs"), g("haproxy", "mibs"), g("slime", "mibs"), fmt="{:,.0f}", ratio="pct",
                  target="s4.mibs")
        errs = {n: best[n]["errors"] for n in best}
        b.res.add(4, f"  {kind} errors", errs.get("direct"), errs.get("haproxy"),
                  errs.get("slime", b.na(dict(tg)["slime"])), fmt="{:d}")
