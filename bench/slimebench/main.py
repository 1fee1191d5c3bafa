"""The run: command-line flags, durations, the scenario groups in order (each with a fresh slime topology),
one repeat when someone else kills a slime process, and the exit codes (0 ran, 1 a scenario hit a harness
error, 2 the references could not be set up)."""
import argparse
import contextlib
import os
import resource
import signal
import time
import traceback

from . import report
from .common import LOGS, PYUP_SMALL_BODY, ROOT, SMALL_BODY, BenchError, log
from .measure import jcmd_path, tree
from .procs import EXTERNAL_KILLS, References, checkout, cleanup, ensure_tools, on_signal
from .scenarios import ALL, GROUPS
from .slime import Hub, SlimeCtl, SlimeUnavailable, newest_installed_jdk


class Bench:
    """What a scenario gets: the run's settings, the references, slime, the results, and helpers."""

    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.dur = 5 if args.quick else 10
        self.short = 3 if args.quick else 10
        self.reps = 1 if args.quick else 3
        self.warm = 2 if args.quick else 5
        self.slime_warm = 3 if args.quick else 40      # C2 settles after about 40 s of load (profiled)
        self.res = report.Results()
        java_home = args.java or os.environ.get("JAVA_HOME") or newest_installed_jdk()
        self.java_home = java_home
        self.src = ROOT
        if args.commit:
            self.src = checkout(args.commit)
        self.slime = SlimeCtl(java_home, args.jar, self.src)
        self.jcmd = jcmd_path(java_home)
        self.harness_errors = []
        self.machine = {}
        self.refs = None

    # ---- helpers for the scenarios
    def endpoints(self, kind, hub):
        """[(name, port or Hub or SlimeUnavailable)] for kind 'nginx' or 'pyup'."""
        return [("direct", self.refs.upstream_port(kind)), ("haproxy", self.refs.haproxy_port(kind)),
                ("slime", hub)]

    def cpu_pids(self, name, hub):
        if name == "direct":
            return tree(self.refs.nginx.pid)
        if name == "haproxy":
            return tree(self.refs.haproxy.pid)
        return hub.pids()

    @staticmethod
    def port_of(t):
        return t.port if isinstance(t, Hub) else t

    def na(self, t):
        return "n/a" if isinstance(t, SlimeUnavailable) else None

    def figures(self, stats, tg):
        """g(name, key): stats[name][key]; 'n/a' for slime when it was unavailable, None if not measured."""
        return lambda n, k: stats[n][k] if n in stats else self.na(dict(tg)[n])

    def wrk_err_note(self, scn, name, r):
        if r["errors"]:
            self.res.note(scn, f"{name}: {r['ok']} good, {r['bad']} wrong 200 bodies, {r['s503']} 503s, "
                               f"{r['other']} other statuses, {r['sockerr']} socket errors/timeouts"
                          + (f"; first bad: {r['badsample']!r}" if r["badsample"] else ""))
        if name == "slime" and r.get("noagent"):
            self.res.note(scn, f"slime: {r['noagent']} of the 200 responses lacked the Slime-Agent header")

    # ---- driver
    def group(self, g, sel):
        """Runs g.run with a slime topology (or the reason there is none) in front of g's upstream."""
        tag = g.tag
        port = self.refs.upstream_port(g.upstream)
        path, body = ("/small", SMALL_BODY) if g.upstream == "nginx" else ("/small", PYUP_SMALL_BODY)
        try:
            with self.slime.topology(tag, port, g.workers, path, body) as hub:
                try:
                    g.run(self, hub, sel)
                except Exception as e:      # noqa: BLE001
                    # a failure caused by slime dying or refusing is a finding, not a harness error
                    if hub.dead() or (isinstance(e, BenchError) and f":{hub.port}" in str(e)):
                        self.res.note(int(tag[1]), f"scenario incomplete, slime failed: {e!r}; dead: {hub.dead()}")
                        log(f"{tag}: slime failed: {e!r}")
                        return
                    raise
                return
        except SlimeUnavailable as e:
            log(f"slime not available for {tag}: {e}")
            if str(e) != self.slime.dead_reason:
                self.res.note(int(tag[1]), f"slime not available: {e}")
            g.run(self, e, sel)

    def run(self):
        sel = self.args.scenarios
        self.refs = References().start()
        self.machine = report.machine_info(self.java_home, self.src, self.args)
        log(f"mode {'quick' if self.quick else 'full'}, scenarios {sorted(sel)}, JDK {self.machine['java']}")
        for g in [g for g in GROUPS if sel & g.scenarios]:
            tag = g.tag
            scn = int(tag[1])
            for attempt in (1, 2):
                log(f"=== {tag}" + (" (second attempt)" if attempt == 2 else ""))
                marks = (len(self.res.rows), len(self.res.notes), len(self.slime.notes), self.slime.dead_reason)
                kills0 = len(EXTERNAL_KILLS)
                err = None
                try:
                    if g.upstream is None:
                        g.run(self, None, sel)
                    else:
                        self.group(g, sel)
                except Exception as e:     # noqa: BLE001 - record and go on with the other scenarios
                    err = (e, traceback.format_exc())
                killed = EXTERNAL_KILLS[kills0:]
                if killed and attempt == 1:
                    # Someone else on the machine killed a slime process: discard this attempt, run it again.
                    del self.res.rows[marks[0]:]
                    del self.res.notes[marks[1]:]
                    del self.slime.notes[marks[2]:]
                    self.slime.dead_reason = marks[3]
                    self.slime.hub_failures = 0
                    self.res.note(scn, f"first attempt discarded: {killed} (process, exit code, noticed at) died "
                                       "of a signal this harness did not send; scenario repeated")
                    log(f"{tag}: slime process(es) killed from outside: {killed}; repeating the scenario")
                    continue
                if err and killed:
                    self.res.note(scn, f"slime process(es) killed from outside again {killed}; scenario "
                                       f"incomplete: {err[0]!r}")
                elif err:
                    log(f"harness error in {tag}: {err[1]}")
                    self.harness_errors.append(f"{tag}: {err[0]!r}")
                    self.res.note(scn, f"HARNESS ERROR: {err[0]!r} (traceback in the run's output)")
                break
            self.refs.check_alive()
        for tag, n in self.slime.notes:
            self.res.note(int(tag[1]), f"slime {n}")
        if self.slime.dead_reason:
            self.res.note(0, f"slime rows not available: {SlimeUnavailable(self.slime.dead_reason)}")

    def report(self):
        report.write(self.machine, self.res, self.slime.jar_info, self.args.scenarios, self.harness_errors)


def parse_args():
    span = f"{ALL[0]}-{ALL[-1]}"
    ap = argparse.ArgumentParser(prog="bench/run", description="slime benchmark (see bench/README.md)")
    ap.add_argument("--quick", action="store_true", help="short smoke version (1 x 5 s runs, 1,000-scale tests)")
    ap.add_argument("--scenarios", default=",".join(str(s) for s in ALL),
                    help="comma-separated subset, e.g. 1,3,6")
    ap.add_argument("--java", help="JDK home for slime (default: $JAVA_HOME, else what bin/slime picks: the newest JDK in /usr/lib/jvm)")
    ap.add_argument("--commit", metavar="REV",
                    help="build slime from a clean checkout of this commit (e.g. HEAD) under bench/work/src "
                         "instead of from the work tree")
    ap.add_argument("--jar", help="use this prebuilt slime.jar instead of the one bin/slime builds in the work tree")
    a = ap.parse_args()
    try:
        a.scenarios = {int(x) for x in a.scenarios.split(",") if x.strip()}
    except ValueError:
        ap.error(f"--scenarios takes numbers {span} separated by commas")
    if not a.scenarios or not a.scenarios <= set(ALL):
        ap.error(f"--scenarios takes numbers {span}")
    if a.jar:
        a.jar = os.path.abspath(a.jar)
        if not os.path.isfile(a.jar):
            ap.error(f"--jar {a.jar}: no such file")
    if a.java and not os.path.exists(os.path.join(a.java, "bin", "java")):
        ap.error(f"--java {a.java}: no bin/java there")
    return a


def main():
    args = parse_args()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = max(soft, min(hard, 200000))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    os.makedirs(LOGS, exist_ok=True)
    for f in os.listdir(LOGS):
        with contextlib.suppress(OSError):
            os.remove(os.path.join(LOGS, f))
    t0 = time.time()
    b = None
    try:
        ensure_tools()
        b = Bench(args)
        b.run()
        b.report()
    except BenchError as e:
        log(f"HARNESS FAILED: {e}")
        return 2
    finally:
        cleanup()
        log(f"finished in {time.time() - t0:.0f} s; logs in bench/work/logs/")
    if b.harness_errors:
        log(f"harness errors: {b.harness_errors}")
        return 1
    return 0
