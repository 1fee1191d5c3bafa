"""Scenario 7: memory. One hub, agents adding up to 1,000 (quick) or 1,000 then 10,000 (full) idle
workers: hub RSS and heap per worker minus a 1-worker baseline. Then 1,000 / 10,000 requests with
Slime-Block against 16 workers parked at a closed gate in the upstream: none may be answered while held,
all must be served once the gate opens. slime only: this scenario starts its own hubs."""
import asyncio
import json
import time

from ..common import PYUP_SMALL_BODY, SMALL_BODY, log, num
from ..load import body_chunks, http_get, read_head, req_bytes
from ..measure import hub_memory
from ..slime import SlimeUnavailable

PER_AGENT = 2500        # idle workers per agent process
BLOCKED_WORKERS = 16


def run(b):
    sizes = [1000] if b.quick else [1000, 10000]
    try:
        idle(b, sizes)
    except SlimeUnavailable as e:
        if str(e) != b.slime.dead_reason:
            b.res.note(7, f"slime not available for the idle-worker test: {e}")
        for sz in sizes:
            b.res.unavailable(7, f"{sz:,} idle workers: hub heap per worker, KB", target="s7.heap")
    nreq = 1000 if b.quick else 10000
    try:
        blocked(b, nreq)
    except SlimeUnavailable as e:
        if str(e) != b.slime.dead_reason:
            b.res.note(7, f"slime not available for the blocked-requests test: {e}")
        b.res.unavailable(7, f"{nreq:,} blocked requests held then served")


def idle(b, sizes):
    tag = "s7idle"
    hub = b.slime.start_hub(tag)
    try:
        b.slime.start_agent(hub, tag, b.refs.nginx_port, 1, idx=0)
        b.slime.wait_serving(hub, "/small", SMALL_BODY)
        for _ in range(20):
            http_get(hub.port, "/small", {"Slime-Block": "1"})
        b.slime.wait_workers(hub, 1, 10)
        time.sleep(1)
        base_rss, base_heap = hub_memory(b.jcmd, hub)
        log(f"s7 baseline (1 worker): RSS {base_rss} KB, heap {base_heap} KB")
        b.res.note(7, f"hub baseline with 1 worker connected: RSS {base_rss} KB, heap after GC "
                      f"{base_heap} KB (jcmd {b.jcmd})")
        total, idx = 1, 1
        for sz in sizes:
            need = sz - total
            t0 = time.time()
            while need > 0:
                k = min(PER_AGENT, need)
                b.slime.start_agent(hub, tag, b.refs.nginx_port, k, idx=idx)
                idx += 1
                need -= k
                total += k
            seen = b.slime.wait_workers(hub, sz, 60 + sz / 50)
            took = time.time() - t0
            time.sleep(2)
            rss, heap = hub_memory(b.jcmd, hub)
            log(f"s7 {sz} workers ({seen} connected in {took:.1f} s): RSS {rss} KB, heap {heap} KB")
            n_conn = max(min(seen, sz) - 1, 1)
            r_pw = (rss - base_rss) / n_conn if num(rss) and num(base_rss) else None
            h_pw = (heap - base_heap) / n_conn if num(heap) and num(base_heap) else None
            if seen < sz:
                b.res.note(7, f"only {seen} of {sz} worker connections established after {took:.0f} s; "
                              "per-worker figures divide by the connected count")
            try:
                st, _, body = http_get(hub.port, "/small", {"Slime-Block": "1"}, timeout=10)
                if st != 200 or body != SMALL_BODY.encode():
                    b.res.note(7, f"with {sz} idle workers a request got {st} {body[:60]!r}")
            except Exception as e:     # noqa: BLE001
                b.res.note(7, f"with {sz} idle workers a request failed: {e!r}")
            b.res.add(7, f"{sz:,} idle workers ({seen:,} connected): hub heap per worker after GC, KB "
                         f"(minus 1-worker baseline)", s=h_pw, fmt="{:.1f}", target="s7.heap")
            b.res.add(7, "  hub RSS per worker, KB (minus baseline)", s=r_pw, fmt="{:.1f}", target="s7.rss")
    finally:
        dead = hub.dead()
        if dead:
            b.res.note(7, "slime process(es) exited during the idle-worker test: " + ", ".join(dead))
        for a in hub.agents:
            a.stop()
        hub.proc.stop()
        b.slime.log_notes(tag, hub)


def blocked(b, nreq):
    workers = BLOCKED_WORKERS
    pyup = b.refs.pyup_port
    with b.slime.topology("s7block", pyup, workers, "/small", PYUP_SMALL_BODY) as hub:
        rss0, heap0 = hub_memory(b.jcmd, hub)
        http_get(pyup, "/__ctl/close-gate")
        try:
            out = asyncio.run(clients(b, hub, nreq))
        finally:
            http_get(pyup, "/__ctl/open-gate")
        rss1, heap1 = out["rss_held"], out["heap_held"]
        rss2, heap2 = hub_memory(b.jcmd, hub)
        c = out["counts"]
        log(f"s7 blocked: {out}")
        b.res.add(7, f"{nreq:,} requests with Slime-Block, {workers} workers held at a gated upstream: "
                     "answered before release", s=out["early"], fmt="{:d}", target="s7.held",
                  judged=out["early"] + (nreq - out["sent"]))
        lost = nreq - c.get("ok", 0)
        b.res.add(7, "  then served correctly after release (lost or wrong)",
                  s=f"{c.get('ok', 0):,} ({lost:,} lost/wrong) in {out['serve_s']:.1f} s",
                  target="s7.served", judged=lost, figures={"nreq": nreq})
        if num(heap1) and num(heap0):
            b.res.add(7, "  hub heap while held, KB per waiting request (after GC, minus before)",
                      s=(heap1 - heap0) / nreq, fmt="{:.1f}", target="s7.heap_held")
        b.res.add(7, "  hub heap after GC: before / held / after, MB",
                  s="/".join(f"{v / 1024:.0f}" if num(v) else "?" for v in (heap0, heap1, heap2)),
                  target="s7.heap_after", judged=heap2, figures={"before": heap0})
        b.res.note(7, f"blocked test: RSS before/held/after {rss0}/{rss1}/{rss2} KB; outcomes {c}; "
                      f"{out['sent']} of {nreq} requests sent in {out['send_s']:.1f} s; "
                      f"upstream saw {out['gate_waiting']} requests parked at the gate while held")


async def clients(b, hub, nreq):
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
    st = json.loads(http_get(b.refs.pyup_port, "/__ctl/stats")[2])
    rss_held, heap_held = await asyncio.to_thread(hub_memory, b.jcmd, hub)
    early = max(early, state["answered"])
    await asyncio.to_thread(http_get, b.refs.pyup_port, "/__ctl/open-gate")
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
