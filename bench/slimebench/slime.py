"""The slime side: the launcher and jar snapshot, `hub register`, hubs, agents and topologies, and the
WARN/ERROR summary of their logs."""
import contextlib
import datetime
import glob
import os
import re
import shutil
import subprocess
import time
import zipfile

from .common import LOGS, ROOT, SECRET, WORK, log
from .load import http_get
from .measure import established, java_pid, tree
from .procs import Proc, free_port, wait_port

# Variables the slime CLI reads from the environment: keep the caller's out of the product's way.
SLIME_ENV_VARS = ["HOST", "PORT", "SECRET", "APP_PASSWORD", "CONCURRENT", "TOKEN", "HUB",
                  "UPSTREAM", "NUM_WORKER", "AGENT_ID"]


def newest_installed_jdk():
    """The JDK bin/slime picks when JAVA_HOME is unset: the highest version (17 or later) named in a
    directory under /usr/lib/jvm; None when there is none (then java on PATH)."""
    best, best_version = None, 16
    for home in glob.glob("/usr/lib/jvm/*/"):
        m = re.search(r"\d+", os.path.basename(home.rstrip("/")))
        if m and os.access(os.path.join(home, "bin", "java"), os.X_OK) and int(m.group()) > best_version:
            best, best_version = home.rstrip("/"), int(m.group())
    return best


class SlimeUnavailable(Exception):
    """slime cannot be built or started: its rows read n/a and the reason goes to the notes."""

    def __init__(self, msg):
        super().__init__(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", str(msg)))


class Hub:
    def __init__(self, proc, port):
        self.proc = proc
        self.port = port
        self.agents = []

    def pids(self):
        out = []
        for p in [self.proc] + self.agents:
            if p.alive():
                out.extend(tree(p.pid))
        return out

    def java(self):
        return java_pid(self.proc.pid)

    def dead(self):
        return [p.name + f" (exit {p.p.returncode})" for p in [self.proc] + self.agents if not p.alive()]


class SlimeCtl:
    def __init__(self, java_home, jar=None, src=ROOT):
        self.src = src                       # the source tree whose bin/slime builds the jar
        self.bin = os.path.join(src, "bin", "slime")
        self.jar = jar
        self.jar_info = ""
        self.java_home = java_home
        self.token = None
        self.dead_reason = None
        self.hub_failures = 0
        self.notes = []

    def env(self, extra=None):
        e = dict(os.environ)
        for k in SLIME_ENV_VARS:
            e.pop(k, None)
        if self.java_home:
            e["JAVA_HOME"] = self.java_home
            e["PATH"] = os.path.join(self.java_home, "bin") + os.pathsep + e.get("PATH", "")
        e.update(extra or {})
        return e

    def snapshot(self, jar):
        """Copies the launcher and the jar under bench/work/slime/ so that every hub and agent of this run
        uses the same build, even if the shared work tree changes (bin/slime rebuilds on newer sources)."""
        root = os.path.join(WORK, "slime")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.join(root, "bin"))
        os.makedirs(os.path.join(root, "cli", "target"))
        dst = os.path.join(root, "cli", "target", "slime.jar")
        for _ in range(3):
            shutil.copy2(jar, dst)
            try:
                with zipfile.ZipFile(dst) as z:
                    z.getinfo("META-INF/MANIFEST.MF")
                break
            except (zipfile.BadZipFile, KeyError):
                time.sleep(5)       # a concurrent build may be writing it
        else:
            raise SlimeUnavailable(f"{jar} is not a readable jar")
        shutil.copy2(os.path.join(self.src, "bin", "slime"), os.path.join(root, "bin", "slime"))
        self.bin = os.path.join(root, "bin", "slime")
        self.jar_info = f"{jar} ({os.path.getsize(jar) // 1024} KB, built " \
                        f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(jar)))})"

    def prepare(self):
        if self.dead_reason:
            raise SlimeUnavailable(self.dead_reason)
        if self.token:
            return
        launcher = os.path.join(self.src, "bin", "slime")
        if not os.access(launcher, os.X_OK):
            self.dead_reason = "bin/slime not found (product not built yet)"
            raise SlimeUnavailable(self.dead_reason)
        if self.jar:
            self.snapshot(self.jar)
        else:
            log("slime: bin/slime hub register (builds cli/target/slime.jar when missing or stale: may take minutes)")
        try:
            r = subprocess.run([self.bin, "hub", "register", "--secret", SECRET, "--name", "bench"],
                               capture_output=True, text=True, timeout=900, env=self.env(), cwd=self.src,
                               start_new_session=True)
        except subprocess.TimeoutExpired:
            self.dead_reason = "`bin/slime hub register` did not finish within 900 s"
            raise SlimeUnavailable(self.dead_reason)
        with open(os.path.join(LOGS, "slime-register.log"), "w") as f:
            f.write(r.stdout + "\n--- stderr ---\n" + r.stderr)
        lines = [ln.strip() for ln in r.stdout.strip().splitlines() if ln.strip()]
        if r.returncode != 0 or len(lines) != 1 or " " in lines[0]:
            tail = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", (r.stderr.strip().splitlines() or ["(no stderr)"])[-1])[:300]
            self.dead_reason = (f"`bin/slime hub register` failed (exit {r.returncode}, "
                                f"{len(lines)} stdout lines; see bench/work/logs/slime-register.log): {tail}")
            raise SlimeUnavailable(self.dead_reason)
        self.token = lines[0]
        if not self.jar:
            self.snapshot(os.path.join(self.src, "cli", "target", "slime.jar"))
        log(f"slime: token ok; hubs and agents run {self.jar_info}")

    def start_hub(self, tag, timeout=120, meanwhile=None):
        """Starts a hub; meanwhile(hub) runs right after the launch (agents start while the hub JVM boots)."""
        self.prepare()
        port = free_port()
        p = Proc(f"hub-{tag}", [self.bin, "hub", "run", "--secret", SECRET, "--host", "127.0.0.1",
                                "--port", str(port)],
                 os.path.join(LOGS, f"slime-hub-{tag}.log"), env=self.env(), cwd=ROOT)
        hub = Hub(p, port)
        t0 = time.time()
        hub.listening_at = "9999"
        if meanwhile:
            meanwhile(hub)
        if not wait_port(port, timeout, p):
            for a in hub.agents:
                a.stop()
            reason = ("hub exited with code %s before listening" % p.p.returncode) if not p.alive() \
                else f"hub did not listen on port {port} within {timeout} s"
            tail = p.tail(4).replace("\n", " | ")[-400:]
            p.stop()
            e = SlimeUnavailable(f"{reason}; log slime-hub-{tag}.log: {tail}")
            self.failed(e)
            raise e
        log(f"slime: hub {tag} listening on {port} after {time.time() - t0:.1f} s")
        hub.listening_at = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:23]
        return hub

    def start_agent(self, hub, tag, upstream_port, workers, idx=0):
        name = f"agent-{tag}-{idx}"
        p = Proc(name, [self.bin, "agent", "run", "--token", self.token, "--hub", f"127.0.0.1:{hub.port}",
                        "--upstream", f"127.0.0.1:{upstream_port}", "--numWorker", str(workers)],
                 os.path.join(LOGS, f"slime-{name}.log"),
                 env=self.env({"AGENT_ID": f"bench-{tag}-{idx}"}), cwd=ROOT)
        hub.agents.append(p)
        return p

    def wait_workers(self, hub, n, timeout):
        """Waits until at least n agent connections are established at the hub."""
        end = time.time() + timeout
        seen = 0
        while time.time() < end:
            seen = established(hub.port)
            if seen >= n:
                return seen
            if hub.dead():
                break
            time.sleep(0.25)
        return seen

    def wait_serving(self, hub, path, body, timeout=60):
        end = time.time() + timeout
        last = "no answer"
        while time.time() < end:
            if hub.dead():
                errs = "; ".join(f"{p.name}: {p.first_error()}" for p in [hub.proc] + hub.agents if p.first_error())
                raise SlimeUnavailable("process died while waiting for agents: " + ", ".join(hub.dead())
                                       + (f"; first errors logged: {errs}" if errs else ""))
            try:
                st, h, b = http_get(hub.port, path, {"Slime-Block": "1"}, timeout=3)
                if st == 200 and b == body.encode():
                    return
                last = f"status {st} body {b[:60]!r}"
            except Exception as e:       # noqa: BLE001 - any failure just means not ready yet
                last = repr(e)[:120]
            time.sleep(0.3)
        errs = "; ".join(f"{p.name}: {p.first_error()}" for p in [hub.proc] + hub.agents if p.first_error())
        raise SlimeUnavailable(f"no good answer through the hub within {timeout} s (last: {last})"
                               + (f"; first errors logged: {errs}" if errs else ""))

    def failed(self, e):
        """Counts start-up failures in a row: after two, slime is given up for the rest of the run."""
        self.hub_failures += 1
        if self.hub_failures >= 2 and not self.dead_reason:
            self.dead_reason = f"gave up after two failed slime start-ups in a row; last: {e}"

    @contextlib.contextmanager
    def topology(self, tag, upstream_port, workers, ready_path, ready_body):
        hub = self.start_hub(tag, meanwhile=lambda h: self.start_agent(h, tag, upstream_port, workers))
        try:
            try:
                self.wait_serving(hub, ready_path, ready_body)
            except SlimeUnavailable as e:
                self.failed(e)
                raise
            self.hub_failures = 0
            seen = self.wait_workers(hub, workers, 30 + workers / 100)
            if seen < workers:
                self.notes.append((tag, f"only {seen} of {workers} worker connections "
                                        f"established at the hub after waiting"))
            log(f"slime: topology {tag} ready ({seen} connections at hub for {workers} workers)")
            yield hub
        finally:
            dead = hub.dead()
            if dead:
                self.notes.append((tag, f"slime process(es) exited during the run: {', '.join(dead)}"
                                        f" (see bench/work/logs/)"))
            for a in hub.agents:
                a.stop()
            hub.proc.stop()
            self.log_notes(tag, hub)

    def log_notes(self, tag, hub):
        """Counts WARN and ERROR lines in the hub's and agents' logs, with the most frequent message."""
        for p in [hub.proc] + hub.agents:
            try:
                with open(p.logfile, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
            except OSError:
                continue
            counts, kinds = {"WARN": 0, "ERROR": 0}, {}
            for ln in lines:
                m = re.match(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.,]\d+)\s+(WARN|ERROR)\s+(.*)", ln)
                if m and "unreachable" in m.group(3) and m.group(1) < getattr(hub, "listening_at", ""):
                    continue        # agents start while the hub boots: their first attempts fail by design
                if m:
                    counts[m.group(2)] += 1
                    key = m.group(2) + " " + re.sub(r"\d+", "N", m.group(3))[:160]
                    kinds[key] = kinds.get(key, 0) + 1
            if kinds:
                top = sorted(kinds.items(), key=lambda kv: -kv[1])[:2]
                self.notes.append((tag, f"{p.name} log: {counts['WARN']} WARN, {counts['ERROR']} ERROR lines; most "
                                  "frequent: " + "; ".join(f"{v} x '{k}'" for k, v in top)))

