"""Load and clients: wrk driven through check.lua (every body checked), a blocking GET, and the asyncio
HTTP/1.1 helpers the python clients of scenarios 6-8 are built from."""
import asyncio
import contextlib
import http.client
import json
import os
import socket
import struct
import subprocess

from .common import BENCH, WORK, BenchError


# ---------------------------------------------------------------- wrk

def wrk(port, path, conns, dur, expect=None, expect_file=None, upload=None, block=True,
        agent=False, timeout_s=10, tag="wrk", headers=()):
    out = os.path.join(WORK, f"{tag}.json")
    with contextlib.suppress(FileNotFoundError):
        os.remove(out)
    cmd = ["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{dur}s", "--timeout", f"{timeout_s}s",
           "-s", os.path.join(BENCH, "check.lua")]
    if block:
        cmd += ["-H", "Slime-Block: 1"]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    env = dict(os.environ, BENCH_OUT=out, BENCH_EXPECT=expect or "", BENCH_EXPECT_FILE=expect_file or "",
               BENCH_REQUIRE_AGENT="1" if agent else "0")
    if upload:
        env["BENCH_UPLOAD_BYTES"] = str(upload)
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=dur + timeout_s + 60)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish: {' '.join(cmd)}")
    try:
        with open(out) as f:
            r = json.load(f)
    except (OSError, ValueError):
        raise BenchError(f"wrk {cmd[-1]} wrote no summary (exit {p.returncode}): {p.stderr.strip()[:300]}")
    secs = r["duration_us"] / 1e6
    r["secs"] = secs
    r["rps"] = r["ok"] / secs if secs else 0.0
    r["sockerr"] = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"]
    r["errors"] = r["bad"] + r["other"] + r["s503"] + r["sockerr"]
    r["p99_ms"] = r["lat_p99_us"] / 1000.0
    r["p50_ms"] = r["lat_p50_us"] / 1000.0
    return r


# ---------------------------------------------------------------- blocking client

def http_get(port, path, headers=None, timeout=5.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


# ---------------------------------------------------------------- asyncio client helpers

def req_bytes(path, headers=None, method="GET", body=b"", close=True):
    h = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for k, v in (headers or {}).items():
        h += f"{k}: {v}\r\n"
    if body or method == "POST":
        h += f"Content-Length: {len(body)}\r\n"
    if close:
        h += "Connection: close\r\n"
    return h.encode() + b"\r\n" + body


async def read_head(reader):
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return status, headers


async def body_chunks(reader, headers):
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("eof inside chunked body")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return
            yield await reader.readexactly(size)
            await reader.readexactly(2)
    elif "content-length" in headers:
        left = int(headers["content-length"])
        while left > 0:
            part = await reader.read(min(left, 1 << 16))
            if not part:
                raise ConnectionError("eof inside body")
            left -= len(part)
            yield part
    else:
        while True:
            part = await reader.read(1 << 16)
            if not part:
                return
            yield part


async def fetch(port, path, headers=None, timeout=10.0):
    async def go():
        r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        try:
            w.write(req_bytes(path, headers))
            status, h = await read_head(r)
            body = b"".join([c async for c in body_chunks(r, h)])
            return status, h, body
        finally:
            w.close()
    return await asyncio.wait_for(go(), timeout)


def abort_writer(w, rst):
    if rst:
        with contextlib.suppress(Exception):
            w.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.transport.abort()
    else:
        w.close()
