#!/usr/bin/env python3
"""Instrumented upstream for the slime benchmark (python3 stdlib only, asyncio).

Endpoints (GET unless noted; query parameters in brackets):
  /small                       -> 200 "pyup-small-ok\n"
  /hold[?ms=300]               -> sleeps, then 200 "hold-ok\n"
  /sse[?n=20&ms=50]            -> text/event-stream, chunked; event i carries the upstream's
                                  time.monotonic_ns() at the moment it was written, so a client on
                                  the same machine can compute each event's one-way delay
  /big[?size=..&chunk=..&ms=..]-> chunked body of `size` bytes, one chunk of `chunk` bytes every `ms`
  /gate                        -> waits while the gate is closed, then 200 "gate-ok\n"
  /instr                       -> 200 "instr-ok\n"; records (arrival, finished-writing) per request
  POST /upload                 -> reads the body, 200 "upload-ok <bytes>\n"
Control (the harness calls them directly, never through a proxy):
  /__ctl/stats  /__ctl/reset  /__ctl/close-gate  /__ctl/open-gate

Counters: `active` counts requests whose response is still being produced (a stream whose
client went away is noticed at the next write and then leaves `active`).
"""
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit, parse_qs

STATE = {
    "active": 0,          # requests being answered right now
    "gate_waiting": 0,    # requests parked at /gate
    "served": 0,          # responses completely written
    "aborted": 0,         # responses cut because the peer went away
    "max_active": 0,
}
INSTR = []                # (arrival_ns, finished_ns) of /instr requests, in arrival order
GATE = None               # asyncio.Event, set = open


def qint(q, name, default):
    try:
        return int(q.get(name, [default])[0])
    except (ValueError, TypeError):
        return default


class PeerGone(Exception):
    pass


async def write(writer, data):
    if writer.transport.is_closing():
        raise PeerGone()
    writer.write(data)
    await writer.drain()
    if writer.transport.is_closing():
        raise PeerGone()


def head(status, ctype, length=None, chunked=False, extra=""):
    reason = {200: "OK", 404: "Not Found", 400: "Bad Request"}.get(status, "OK")
    h = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
    if chunked:
        h += "Transfer-Encoding: chunked\r\n"
    else:
        h += f"Content-Length: {length}\r\n"
    return (h + extra + "\r\n").encode()


async def simple(writer, body, status=200, ctype="text/plain"):
    await write(writer, head(status, ctype, len(body)) + body)


async def read_body(reader, headers):
    n = 0
    if headers.get("transfer-encoding", "").lower().find("chunked") >= 0:
        while True:
            line = await reader.readline()
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return n
            left = size
            while left:
                part = await reader.read(min(left, 1 << 16))
                if not part:
                    raise PeerGone()
                left -= len(part)
                n += len(part)
            await reader.readexactly(2)
    cl = int(headers.get("content-length", "0") or 0)
    while n < cl:
        part = await reader.read(min(cl - n, 1 << 16))
        if not part:
            raise PeerGone()
        n += len(part)
    return n


async def handle(reader, writer):
    try:
        while True:
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            arrival = time.monotonic_ns()
            lines = raw.decode("latin-1").split("\r\n")
            try:
                method, target, _ = lines[0].split(" ", 2)
            except ValueError:
                return
            headers = {}
            for ln in lines[1:]:
                if ":" in ln:
                    k, v = ln.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            url = urlsplit(target)
            q = parse_qs(url.query)
            path = url.path
            nbody = await read_body(reader, headers)
            if path.startswith("/__ctl/"):
                await route(method, path, q, nbody, arrival, writer)
                continue
            STATE["active"] += 1
            STATE["max_active"] = max(STATE["max_active"], STATE["active"])
            try:
                await route(method, path, q, nbody, arrival, writer)
                STATE["served"] += 1
            except (PeerGone, ConnectionError):
                STATE["aborted"] += 1
                return
            finally:
                STATE["active"] -= 1
            if headers.get("connection", "").lower() == "close":
                return
    except (PeerGone, ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def route(method, path, q, nbody, arrival, writer):
    if path == "/small":
        await simple(writer, b"pyup-small-ok\n")
    elif path == "/instr":
        await simple(writer, b"instr-ok\n")
        INSTR.append((arrival, time.monotonic_ns()))
    elif path == "/hold":
        await asyncio.sleep(qint(q, "ms", 300) / 1000)
        await simple(writer, b"hold-ok\n")
    elif path == "/gate":
        STATE["gate_waiting"] += 1
        try:
            await GATE.wait()
        finally:
            STATE["gate_waiting"] -= 1
        await simple(writer, b"gate-ok\n")
    elif path == "/sse":
        n, ms = qint(q, "n", 20), qint(q, "ms", 50)
        await write(writer, head(200, "text/event-stream", chunked=True,
                                 extra="Cache-Control: no-cache\r\n"))
        for i in range(n):
            if i:
                await asyncio.sleep(ms / 1000)
            ev = f"id: {i}\ndata: {i} {time.monotonic_ns()}\n\n".encode()
            await write(writer, b"%x\r\n%s\r\n" % (len(ev), ev))
        await write(writer, b"0\r\n\r\n")
    elif path == "/big":
        size, chunk, ms = qint(q, "size", 1 << 20), qint(q, "chunk", 1 << 16), qint(q, "ms", 0)
        await write(writer, head(200, "application/octet-stream", chunked=True))
        block = (b"0123456789abcdef" * (chunk // 16 + 1))[:chunk]
        sent = 0
        while sent < size:
            part = block[: min(chunk, size - sent)]
            await write(writer, b"%x\r\n%s\r\n" % (len(part), part))
            sent += len(part)
            if ms:
                await asyncio.sleep(ms / 1000)
        await write(writer, b"0\r\n\r\n")
    elif path == "/upload":
        await simple(writer, b"upload-ok %d\n" % nbody)
    elif path == "/__ctl/stats":
        body = dict(STATE, instr=INSTR if q.get("instr") else len(INSTR))
        await simple(writer, json.dumps(body).encode(), ctype="application/json")
    elif path == "/__ctl/reset":
        INSTR.clear()
        STATE.update(served=0, aborted=0, max_active=STATE["active"])
        await simple(writer, b"ok\n")
    elif path == "/__ctl/close-gate":
        GATE.clear()
        await simple(writer, b"ok\n")
    elif path == "/__ctl/open-gate":
        GATE.set()
        await simple(writer, b"ok\n")
    else:
        await simple(writer, b"not found\n", status=404)


async def main(port):
    global GATE
    GATE = asyncio.Event()
    GATE.set()
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096, limit=1 << 20)
    print(f"pyup listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
