"""Scenario 8: abort storm. 1,000 clients (500 in quick mode; 100 at a time, Slime-Block) start slow 16 MiB
downloads or event streams and abort mid-body (half FIN, half RST), 10% abort while still queued; a probe
keeps requesting during the storm; afterwards a burst of blocked 300 ms requests, one per worker."""
import asyncio
import contextlib
import json
import time

from ..common import PYUP_SMALL_BODY, log
from ..load import abort_writer, body_chunks, fetch, http_get, read_head, req_bytes
from ..slime import Hub, SlimeUnavailable

WORKERS = 32
CONC, HOLD_MS, BUDGET_S = 100, 300, 90


async def abort_client(port, i, hold_deadline):
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


async def storm(port, n, conc, budget):
    sem = asyncio.Semaphore(conc)
    probe = {"ok": 0, "fail": 0, "max_ms": 0.0}
    stop = asyncio.Event()

    async def guarded(i):
        async with sem:
            return await abort_client(port, i, 20)

    async def prober():
        while not stop.is_set():
            t = time.monotonic()
            try:
                st, _, b = await fetch(port, "/small", {"Slime-Block": "1"}, timeout=20)
                ok = st == 200 and b == PYUP_SMALL_BODY.encode()
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


async def burst(port, n, hold_ms):
    async def one():
        t = time.monotonic()
        try:
            st, _, b = await fetch(port, f"/hold?ms={hold_ms}", {"Slime-Block": "1"}, timeout=30)
            ok = st == 200 and b == b"hold-ok\n"
        except Exception:       # noqa: BLE001
            ok = False
        return ok, (time.monotonic() - t) * 1000
    return await asyncio.gather(*[one() for _ in range(n)])


def run(b, hub):
    tg = b.endpoints("pyup", hub)
    workers = WORKERS
    pyup = b.refs.pyup_port
    n, conc, hold = (500 if b.quick else 1000), CONC, HOLD_MS
    stats = {}
    for name, t in tg:
        if isinstance(t, SlimeUnavailable):
            continue
        port = b.port_of(t)
        counts, took, probe = asyncio.run(storm(port, n, conc, BUDGET_S))
        errors = n - counts.get("aborted", 0)
        # every upstream request should be cancelled once its client is gone
        t_end = time.time() + 15
        st = json.loads(http_get(pyup, "/__ctl/stats")[2])
        while st["active"] > 0 and time.time() < t_end:
            time.sleep(0.2)
            st = json.loads(http_get(pyup, "/__ctl/stats")[2])
        left = st["active"]
        drain_s = 15 - max(0, t_end - time.time())
        bu = asyncio.run(burst(port, workers, hold))
        b_ok = sum(1 for ok, _ in bu if ok)
        b_max = max(ms for _, ms in bu)
        alive = "yes" if not (isinstance(t, Hub) and t.dead()) else "NO"
        stats[name] = {"errors": errors, "left": left, "b_ok": b_ok, "b_max": b_max, "took": took,
                       "probe_fail": probe["fail"], "probe_max": probe["max_ms"]}
        log(f"s8 {name}: storm {counts} in {took:.1f} s, probes {probe}, upstream open after: {left} "
            f"({drain_s:.1f} s), burst {b_ok}/{workers} ok, max {b_max:.0f} ms, alive {alive}")
        b.res.note(8, f"{name}: storm outcomes {counts} in {took:.1f} s; probe /small during storm: "
                      f"{probe['ok']} ok, {probe['fail']} failed, slowest {probe['max_ms']:.0f} ms; "
                      f"upstream requests still open after the storm: {left}")
    g = b.figures(stats, tg)
    b.res.add(8, f"abort storm: {n:,} clients ({conc} at once) abort slow downloads, event streams, "
                 "queued requests: errors beyond the aborts", g("direct", "errors"), g("haproxy", "errors"),
              g("slime", "errors"), fmt="{:d}", target="s8.errors")
    b.res.add(8, "  probe requests failed during the storm (hub keeps serving)", g("direct", "probe_fail"),
              g("haproxy", "probe_fail"), g("slime", "probe_fail"), fmt="{:d}", target="s8.probe")
    b.res.add(8, "  upstream requests still open after storm (+15 s)", g("direct", "left"),
              g("haproxy", "left"), g("slime", "left"), fmt="{:d}")
    b.res.add(8, f"  then burst of {workers} blocked {hold} ms requests ({workers} workers): ok",
              g("direct", "b_ok"), g("haproxy", "b_ok"), g("slime", "b_ok"), fmt="{:d}",
              target="s8.burst_ok", figures={"workers": workers})
    b.res.add(8, "  burst slowest request, ms (one round: all workers idle)", g("direct", "b_max"),
              g("haproxy", "b_max"), g("slime", "b_max"), fmt="{:.0f}", target="s8.burst_max",
              figures={"hold_ms": hold})
