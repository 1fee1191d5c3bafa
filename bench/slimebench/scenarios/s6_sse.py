"""Scenario 6: server-sent events from pyup.py (20 events 50 ms apart, chunked text/event-stream; 4
concurrent streams, several rounds interleaving the targets). Each event carries the upstream's
CLOCK_MONOTONIC write time, so the client gets each event's one-way delay; time to first event is from
sending the request."""
import asyncio
import statistics
import time

from ..common import log, num
from ..load import body_chunks, read_head, req_bytes, wrk
from ..measure import pct
from ..slime import SlimeUnavailable

WORKERS = 4
EVENTS, GAP_MS, CONC = 20, 50, 4


async def sse_stream(port, n, ms):
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


async def sse_round(port, conc, n, ms):
    tasks = [asyncio.wait_for(sse_stream(port, n, ms), n * ms / 1000 + 15) for _ in range(conc)]
    out = []
    for res in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(res, BaseException):
            out.append((None, repr(res)[:100]))
        else:
            out.append(res)
    return out


def run(b, hub):
    tg = b.endpoints("pyup", hub)
    n, ms, conc = EVENTS, GAP_MS, CONC
    rounds = 2 if b.quick else 6
    stats = {}
    live = [(name, b.port_of(t)) for name, t in tg if not isinstance(t, SlimeUnavailable)]
    acc = {name: ([], [], []) for name, _ in live}         # ttfe, delays, errors
    for name, port in live:
        if name == "slime":
            # short streams, each on a new connection as in the rounds: the path the rounds measure
            wrk(port, "/sse?n=2&ms=0", conc, b.slime_warm, tag="warm", headers=("Connection: close",))
        asyncio.run(sse_round(port, conc, 5, 10))           # warm-up
    for _ in range(rounds):                                 # rounds interleave the targets
        for name, port in live:
            ttfe, delays, errs = acc[name]
            for res, err in asyncio.run(sse_round(port, conc, n, ms)):
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
            b.res.note(6, f"{name}: {len(errs)} of {rounds * conc} streams failed, e.g. {errs[0]}")
        log(f"s6 {name}: ttfe {stats[name]['ttfe']} ms, event delay p50 {stats[name]['d50']} "
            f"p99 {stats[name]['d99']} ms, errors {len(errs)}")
    g = b.figures(stats, tg)
    label = f"{rounds} x {conc} streams of {n} events {ms} ms apart"
    s, d = g("slime", "ttfe"), g("direct", "ttfe")
    b.res.add(6, f"SSE time to first event, median ms ({label})", d, g("haproxy", "ttfe"), s,
              fmt="{:.2f}", ratio="add", target="s6.ttfe",
              ratio_d=(f"+{s - d:.2f} ms" if num(s) and num(d) else ""))
    for key, lab in (("d50", "p50"), ("d99", "p99")):
        s, d = g("slime", key), g("direct", key)
        b.res.add(6, f"  later events: delay upstream write -> client, {lab} ms", d, g("haproxy", key), s,
                  fmt="{:.2f}", ratio="add", ratio_d=(f"+{s - d:.2f} ms" if num(s) and num(d) else ""),
                  target="s6.p99" if key == "d99" else None)
    b.res.add(6, "  failed streams", g("direct", "errors"), g("haproxy", "errors"), g("slime", "errors"),
              fmt="{:d}", target="s6.failed")
