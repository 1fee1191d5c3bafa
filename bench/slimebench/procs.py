"""Process control: every process the run starts (Proc), free ports, cleanup at exit, installing the tools,
a clean checkout for --commit, and the references (nginx, the python upstream, HAProxy)."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from .common import BENCH, ECHO_MODULE, LOGS, MIB, PYUP_SMALL_BODY, ROOT, SMALL_BODY, WORK, BenchError, log
from .load import http_get

PROCS = []          # every process this run started, for cleanup
EXTERNAL_KILLS = [] # (process, exit code, when noticed): died of a signal this harness did not send


class Proc:
    def __init__(self, name, cmd, logfile, env=None, cwd=None):
        self.name = name
        self.cmd = cmd
        self.logfile = logfile
        self.fh = open(logfile, "ab")
        self.p = subprocess.Popen(cmd, stdout=self.fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env=env, cwd=cwd, start_new_session=True)
        self.pid = self.p.pid
        PROCS.append(self)

    def alive(self):
        return self.p.poll() is None

    def stop(self, grace=8):
        rc = self.p.poll()
        if rc is not None and rc in (-signal.SIGTERM, 128 + signal.SIGTERM, -signal.SIGKILL, 128 + signal.SIGKILL,
                                     -signal.SIGINT, 128 + signal.SIGINT):
            EXTERNAL_KILLS.append((self.name, rc, time.strftime("%H:%M:%S")))
        if rc is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.p.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        # the group may hold children (e.g. the java under the bin/slime wrapper) even if the leader is gone
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.p.wait(5)
        with contextlib.suppress(Exception):
            self.fh.close()
        if self in PROCS:
            PROCS.remove(self)

    def first_error(self):
        """The first ERROR line of the log with the line after it (usually the exception), or ''."""
        try:
            with open(self.logfile, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        for i, ln in enumerate(lines):
            if " ERROR " in ln or "Exception in thread" in ln:
                return " / ".join(x.strip() for x in lines[i:i + 2])[:400]
        return ""

    def tail(self, n=15):
        try:
            with open(self.logfile, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""


def cleanup():
    for p in list(reversed(PROCS)):
        with contextlib.suppress(Exception):
            p.stop(grace=5)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_port(port, timeout, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if port_open(port):
            return True
        if proc is not None and not proc.alive():
            return False
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- setup

def ensure_tools():
    missing = [t for t in ("wrk", "nginx", "haproxy") if not shutil.which(t)]
    if missing or not os.path.exists(ECHO_MODULE):
        pkgs = ["wrk", "nginx", "libnginx-mod-http-echo", "haproxy"]
        if os.geteuid() != 0:
            raise BenchError(f"missing {missing or ['nginx echo module']}: run as root, or "
                             f"apt-get install {' '.join(pkgs)}")
        log(f"installing {' '.join(pkgs)} from Debian packages")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, timeout=600,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + pkgs, check=True,
                       env=env, timeout=900, stdout=subprocess.DEVNULL)
        # Debian starts the packaged services where it can; this benchmark runs its own instances only.


def checkout(rev):
    """A clean clone of the repository at rev under bench/work/src, so that slime is built from a
    commit rather than from a work tree others may be editing."""
    dst = os.path.join(WORK, "src")
    shutil.rmtree(dst, ignore_errors=True)
    try:
        subprocess.run(["git", "clone", "-q", ROOT, dst], check=True, timeout=300, capture_output=True)
        subprocess.run(["git", "-C", dst, "checkout", "-q", "--detach",
                        subprocess.run(["git", "-C", ROOT, "rev-parse", rev], check=True, capture_output=True,
                                       text=True).stdout.strip()],
                       check=True, timeout=60, capture_output=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        raise BenchError(f"--commit {rev}: cannot check it out: {getattr(e, 'stderr', e)}")
    log(f"slime source: clean checkout of {rev} in bench/work/src")
    return dst


class References:
    """nginx (with the echo module), the python upstream pyup.py, and HAProxy in front of each."""

    def start(self):
        for d in ("www", "nginx-tmp", "logs"):
            os.makedirs(os.path.join(WORK, d), exist_ok=True)
        block = (b"slime-bench-1MiB-" + bytes(range(48, 48 + 47)))
        data = (block * (MIB // len(block) + 1))[:MIB]
        with open(os.path.join(WORK, "www", "1m"), "wb") as f:
            f.write(data)
        self.file_1m = os.path.join(WORK, "www", "1m")
        self.nginx_port = free_port()
        conf = open(os.path.join(BENCH, "nginx.conf.in")).read()
        conf = (conf.replace("@WORK@", WORK).replace("@PORT@", str(self.nginx_port))
                .replace("@ECHO_MODULE@", ECHO_MODULE)
                .replace("@USER@", "user root;" if os.geteuid() == 0 else ""))
        with open(os.path.join(WORK, "nginx.conf"), "w") as f:
            f.write(conf)
        self.nginx = Proc("nginx", ["nginx", "-p", WORK, "-c", os.path.join(WORK, "nginx.conf")],
                          os.path.join(LOGS, "nginx.log"))
        self.pyup_port = free_port()
        self.pyup = Proc("pyup", [sys.executable, os.path.join(BENCH, "pyup.py"), str(self.pyup_port)],
                         os.path.join(LOGS, "pyup.log"))
        self.hap_nginx, self.hap_pyup = free_port(), free_port()
        cfg = open(os.path.join(BENCH, "haproxy.cfg.in")).read()
        cfg = (cfg.replace("@NGINX_FE@", str(self.hap_nginx)).replace("@NGINX@", str(self.nginx_port))
               .replace("@PYUP_FE@", str(self.hap_pyup)).replace("@PYUP@", str(self.pyup_port)))
        with open(os.path.join(WORK, "haproxy.cfg"), "w") as f:
            f.write(cfg)
        self.haproxy = Proc("haproxy", ["haproxy", "-db", "-f", os.path.join(WORK, "haproxy.cfg")],
                            os.path.join(LOGS, "haproxy.log"))
        for name, port, proc in (("nginx", self.nginx_port, self.nginx), ("pyup", self.pyup_port, self.pyup),
                                 ("haproxy", self.hap_nginx, self.haproxy)):
            if not wait_port(port, 15, proc):
                raise BenchError(f"{name} did not start: {proc.tail(5)}")
        for port, path, body in ((self.nginx_port, "/small", SMALL_BODY), (self.hap_nginx, "/small", SMALL_BODY),
                                 (self.pyup_port, "/small", PYUP_SMALL_BODY),
                                 (self.hap_pyup, "/small", PYUP_SMALL_BODY)):
            st, _, b = http_get(port, path)
            if st != 200 or b != body.encode():
                raise BenchError(f"reference check failed on port {port}{path}: {st} {b[:80]!r}")
        log(f"references up: nginx {self.nginx_port}, pyup {self.pyup_port}, "
            f"haproxy {self.hap_nginx}->nginx {self.hap_pyup}->pyup")
        return self

    def upstream_port(self, kind):
        return self.nginx_port if kind == "nginx" else self.pyup_port

    def haproxy_port(self, kind):
        return self.hap_nginx if kind == "nginx" else self.hap_pyup

    def check_alive(self):
        for p in (self.nginx, self.pyup, self.haproxy):
            if not p.alive():
                raise BenchError(f"reference process {p.name} died: {p.tail(5)}")
