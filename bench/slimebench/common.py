"""Paths, constants and logging shared by every module of the harness."""
import os
import sys
import time

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
WORK = os.path.join(BENCH, "work")
LOGS = os.path.join(WORK, "logs")
SECRET = "bench-secret-0123456789abcdef0123456789"
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
SMALL_BODY = "slime-bench-small-ok\n"
SLOW_BODY = "slime-bench-slow-ok\n"
PYUP_SMALL_BODY = "pyup-small-ok\n"
MIB = 1 << 20


class BenchError(Exception):
    """The harness itself cannot go on (exit code 2 before the scenarios, a harness error within one)."""


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def num(v):
    """A measured figure (int or float), as opposed to None, 'n/a' or a text."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)
