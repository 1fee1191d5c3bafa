"""What the harness reads off the machine: process trees, CPU ticks, RSS and heap, the hub's established
connections, and percentiles."""
import os
import re
import shutil
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                ppid = int(s[s.rindex(")") + 2:].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError):
                pass
    return kids


def tree(pid):
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])    # utime, stime
        except (OSError, ValueError):
            pass
    return total


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def java_pid(root_pid):
    for p in tree(root_pid):
        try:
            with open(f"/proc/{p}/comm") as f:
                if f.read().strip() == "java":
                    return p
        except OSError:
            pass
    return None


def established(port):
    """ESTABLISHED TCP sockets whose local port is `port` (the hub side of each connection)."""
    n = 0
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == "01" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        n += 1
        except OSError:
            pass
    return n


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


# ---------------------------------------------------------------- JVM probes

def jcmd_path(java_home):
    if java_home and os.path.exists(os.path.join(java_home, "bin", "jcmd")):
        return os.path.join(java_home, "bin", "jcmd")
    j = shutil.which("java")
    if j:
        cand = os.path.join(os.path.dirname(os.path.realpath(j)), "jcmd")
        if os.path.exists(cand):
            return cand
    return shutil.which("jcmd")


def heap_used_kb(jcmd, pid, gc=True):
    """Heap in use (KB) after a full GC, from jcmd GC.heap_info; None if it cannot be read."""
    if not jcmd or not pid:
        return None
    try:
        if gc:
            subprocess.run([jcmd, str(pid), "GC.run"], capture_output=True, timeout=60)
            time.sleep(0.5)
        out = subprocess.run([jcmd, str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60).stdout
    except (subprocess.TimeoutExpired, OSError):
        return None
    used = [int(u) for _, u in re.findall(r"total (\d+)K, used (\d+)K", out)]
    if used:
        return sum(used)
    m = re.search(r"ZHeap\s+used (\d+)M", out)
    if m:
        return int(m.group(1)) * 1024
    return None


def hub_memory(jcmd, hub):
    """(RSS KB, heap after GC KB) of the hub's JVM; either may be None."""
    pid = hub.java()
    heap = heap_used_kb(jcmd, pid)
    time.sleep(0.3)
    return rss_kb(pid) if pid else None, heap
