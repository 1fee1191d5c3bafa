"""The results table (rows with their targets and verdicts from targets.py), the machine description,
and the two outputs: bench/RESULTS.md and bench/work/results.json."""
import contextlib
import datetime
import json
import os
import subprocess
import sys

from .common import BENCH, ROOT, WORK
from .targets import TARGETS

_SLIME = object()


class Results:
    def __init__(self):
        self.rows = []
        self.notes = []

    def add(self, scn, metric, d=None, h=None, s=None, fmt="{:.0f}", ratio=None, ratio_d=None,
            target=None, judged=_SLIME, figures=None):
        """One row: direct, HAProxy, slime. ratio: 'pct' (slime / x as percent), 'x' (slime / x as
        multiple), 'add' (slime - x), None; ratio_d replaces the slime/direct cell. target: a key of
        targets.TARGETS (s<scn>.<name>), judged on `judged` (default: the slime figure) with `figures`,
        the scenario's own numbers the target refers to."""
        def f(v):
            if v is None:
                return "—"
            if isinstance(v, str):
                return v
            return fmt.format(v)

        def r(a, b):
            if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or ratio is None:
                return ""
            if ratio == "add":
                return ("+" if a - b >= 0 else "") + fmt.format(a - b) + " ms"
            if b == 0:
                return ""
            if ratio == "pct":
                return f"{100.0 * a / b:.0f}%"
            return f"{a / b:.2f}x"
        text, result = "", ""
        if target is not None:
            if not target.startswith(f"s{scn}."):
                raise ValueError(f"target {target} on a row of scenario {scn}")
            t = TARGETS[target]
            row = dict(figures or {}, direct=d, haproxy=h, slime=s)
            value = s if judged is _SLIME else judged
            text, result = t.show(value, row), t.judge(value, row)
        self.rows.append({"scenario": scn, "metric": metric, "direct": f(d), "haproxy": f(h), "slime": f(s),
                          "vs_haproxy": r(s, h), "vs_direct": r(s, d) if ratio_d is None else ratio_d,
                          "target": text, "result": result,
                          "raw": {"direct": d, "haproxy": h, "slime": s}})

    def unavailable(self, scn, metric, target=None):
        """A slime-only row that could not be measured: n/a, with its target's text if it has one."""
        self.add(scn, metric, s="n/a", target=target)
        self.rows[-1]["result"] = "n/a"

    def note(self, scn, text):
        self.notes.append((scn, text))

    def table(self):
        cols = ["scenario", "metric", "direct", "haproxy", "slime", "vs_haproxy", "vs_direct", "target", "result"]
        names = ["#", "metric", "direct", "HAProxy", "slime", "slime/HAProxy", "slime/direct", "target", "result"]
        lines = ["| " + " | ".join(names) + " |", "|" + "|".join("---" for _ in names) + "|"]
        for row in self.rows:
            lines.append("| " + " | ".join(str(row[c]).replace("|", "/") for c in cols) + " |")
        return "\n".join(lines)


def machine_info(java_home, src, args):
    m = {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
         "nproc": os.cpu_count()}
    with contextlib.suppress(OSError):
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                m["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                m["cpu"] = line.split(":", 1)[1].strip()
                break
    m["kernel"] = os.uname().release
    with contextlib.suppress(OSError):
        m["load_start"] = open("/proc/loadavg").read().split()[:3]
    java = os.path.join(java_home, "bin", "java") if java_home else "java"
    try:
        j = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
        m["java"] = " / ".join(ln.strip() for ln in j.stderr.strip().splitlines())
    except (OSError, subprocess.TimeoutExpired) as e:
        m["java"] = f"not runnable ({java}: {e})"
    m["java_home"] = java_home or "(java on PATH)"
    try:
        c = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "status", "--porcelain", "--untracked-files=no",
                                "--", ".", ":!bench"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        m["commit"] = c + (" (work tree with uncommitted changes outside bench/)" if dirty else "")
        if args.jar:
            m["commit"] += " (but slime from --jar, see below)"
        elif src != ROOT:
            m["commit"] += " (clean checkout, --commit)"
    except (OSError, subprocess.TimeoutExpired):
        m["commit"] = "unknown"
    m["wrk"] = "wrk 4.1.0 (Debian)"
    for tool, argv in (("haproxy", ["haproxy", "-v"]), ("nginx", ["nginx", "-v"])):
        with contextlib.suppress(Exception):
            o = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            m[tool] = (o.stdout + o.stderr).strip().splitlines()[0]
    m["slime_java_opts"] = os.environ.get("SLIME_JAVA_OPTS", "")
    m["mode"] = "quick" if args.quick else "full"
    return m


def write(m, res, jar_info, scenarios, harness_errors):
    """Writes bench/RESULTS.md and bench/work/results.json, and prints the former."""
    with contextlib.suppress(OSError):
        m["load_end"] = open("/proc/loadavg").read().split()[:3]
    head = [f"# slime benchmark results ({m.get('mode')} mode)", "",
            f"- date: {m.get('date')}",
            f"- commit: {m.get('commit')}",
            f"- machine: {m.get('nproc')} cores ({m.get('cpu')}), {m.get('memory')} memory, "
            f"kernel {m.get('kernel')}; load average (1/5/15 min) at start {' '.join(m.get('load_start', []))}, "
            f"at end {' '.join(m.get('load_end', []))} (other work on the machine skews absolute figures)",
            f"- java (for slime): {m.get('java')} [{m.get('java_home')}]"
            + (f", SLIME_JAVA_OPTS={m['slime_java_opts']}" if m.get("slime_java_opts") else ""),
            f"- slime jar: {jar_info or 'not built'}",
            f"- references: {m.get('nginx')}, {m.get('haproxy')}, {m.get('wrk')}",
            f"- scenarios: {','.join(str(s) for s in sorted(scenarios))}; "
            f"command: bench/run {' '.join(sys.argv[1:])}",
            "", "Ratios compare slime with references measured in this same run. PASS/MISS is judged on "
            "the slime column only; n/a means not measured (reason in the notes).", ""]
    notes = ["", "## Notes", ""]
    for scn, text in res.notes:
        notes.append(f"- {'general' if scn == 0 else 'scenario ' + str(scn)}: {text}")
    if harness_errors:
        notes.append(f"- HARNESS ERRORS: {harness_errors}")
    if len(notes) == 3:
        notes.append("- none")
    text = "\n".join(head) + res.table() + "\n" + "\n".join(notes) + "\n"
    with open(os.path.join(BENCH, "RESULTS.md"), "w") as f:
        f.write(text)
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump({"machine": m, "rows": res.rows, "notes": res.notes}, f, indent=1, default=str)
    print(text)
