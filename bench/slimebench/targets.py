"""Every scenario's target, in one table. Nothing else in the harness writes a threshold: a scenario
names the target of a row (Results.add(..., target="s3.rps")) and the report takes the text of the target
column and the PASS/MISS verdict from here. Verdicts judge the slime column only.

A target's threshold is `limit` when `of` is None, else `times` x <of> + `plus`, where <of> is
  "haproxy" or "direct"   that column of the same row (the reference measured in the same run), or
  any other name          a figure the scenario passes with the row (figures={"ideal": 80.0}).
The verdict is n/a when the judged figure or the threshold's base was not measured; a target whose cmp is
None is shown without a verdict. `text` is a format string over limit, times, plus and the row's figures
(use {limit} only where the threshold does not depend on a column, since it is shown also when slime is
n/a). `aim` (with of="haproxy") is a second, hoped-for factor: the text then says whether it was reached.

To change a target, change its line here (and the Scenarios table of bench/README.md, which describes
them in prose).
"""
import operator
from dataclasses import dataclass

from .common import num

COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, "==": operator.eq}


@dataclass(frozen=True)
class Target:
    metric: str             # what is judged
    cmp: str = None         # "<=", ">=", "<", "==", or None (shown, not judged)
    limit: float = None     # absolute threshold (when `of` is None)
    of: str = None          # threshold = times x <of> + plus: "haproxy", "direct" or a figure's name
    times: float = 1
    plus: float = 0
    text: str = ""          # the target column
    aim: float = None       # with of="haproxy": a second factor, reported as reached or not

    def threshold(self, row):
        """The threshold for this row; row holds the columns ('direct', 'haproxy') and the figures."""
        if self.of is None:
            return self.limit
        base = row.get(self.of)
        return self.times * base + self.plus if num(base) else None

    def show(self, value, row):
        figures = {k: v for k, v in row.items() if k not in ("direct", "haproxy", "slime")}
        text = self.text.format(limit=self.threshold(row), times=self.times, plus=self.plus, **figures)
        base = row.get(self.of)
        if self.aim is not None and num(value) and num(base):
            text += f" (aim {self.aim:.0%}: " + ("reached" if value >= self.aim * base else "not reached") + ")"
        return text

    def judge(self, value, row):
        if self.cmp is None:
            return ""
        limit = self.threshold(row)
        if not num(value) or limit is None:
            return "n/a"
        return "PASS" if COMPARE[self.cmp](value, limit) else "MISS"


TARGETS = {
    # 1: small GET, 64 connections, Slime-Block, 64 workers
    "s1.rps": Target("valid req/s against HAProxy's", ">=", of="haproxy", times=0.30, aim=0.50,
                     text="≥ {times:.0%} of HAProxy"),
    "s1.p99": Target("p99 latency against HAProxy's", "<=", of="haproxy", times=5, text="≤ {times:g}x HAProxy"),
    # 2: the same without Slime-Block
    "s2.503": Target("503 answers", "==", limit=0, text="{limit:g}"),
    "s2.bad": Target("wrong bodies and other non-200", "==", limit=0, text="{limit:g}"),
    # 3: slow upstream, 4 workers; ideal: what 4 workers can do at 50 ms per request (80/s; p99 400 ms)
    "s3.rps": Target("valid req/s against the ideal", ">=", of="ideal", times=0.98,
                     text="≥ {limit:.1f} ({times:.0%} of ideal {ideal:g}/s)"),
    "s3.p99": Target("p99 latency against the ideal", "<=", of="ideal", times=1.3,
                     text="≤ {limit:.0f} ms ({times:g} x {ideal:g} ms)"),
    # 4: 1 MiB downloads and uploads
    "s4.mibs": Target("MiB/s against HAProxy's", ">=", of="haproxy", times=0.80, text="≥ {times:.0%} of HAProxy"),
    # 5: CPU per request, hub and agent process trees
    "s5.cpu": Target("CPU ms per request", "<=", limit=0.1, text="≤ {limit:g} ms (hub+agent)"),
    # 6: server-sent events
    "s6.ttfe": Target("median time to first event, added to direct's", "<=", of="direct", plus=5,
                      text="≤ +{plus:g} ms vs direct"),
    "s6.p99": Target("p99 event delay, added to direct's", "<=", of="direct", plus=5,
                     text="≤ +{plus:g} ms vs direct"),
    "s6.failed": Target("failed streams", "==", limit=0, text="{limit:g}"),
    # 7: memory per idle worker; blocked requests held at a gated upstream
    "s7.heap": Target("hub heap per idle worker, KB", "<=", limit=20, text="≤ {limit:g} KB (Go Slime: 39 KB)"),
    "s7.rss": Target("hub RSS per idle worker, KB", "<=", limit=20, text="≤ {limit:g} KB"),
    "s7.held": Target("requests answered while held, or never sent", "==", limit=0,
                      text="{limit:g} (all held)"),
    "s7.served": Target("requests lost or wrong after release", "==", limit=0, text="all {nreq:,}, none lost"),
    "s7.heap_held": Target("hub heap per waiting request", text="bounded"),
    "s7.heap_after": Target("hub heap after release, KB", "<=", of="before", times=1.5, plus=20 * 1024,
                            text="returns near before"),
    # 8: abort storm, then a burst on all workers
    "s8.errors": Target("errors beyond the aborts", "==", limit=0, text="{limit:g}"),
    "s8.probe": Target("failed probe requests", "==", limit=0, text="{limit:g}"),
    "s8.burst_ok": Target("burst requests ok, one per worker", "==", of="workers", text="{limit:g}"),
    "s8.burst_max": Target("slowest burst request, ms (one round)", "<", of="hold_ms", times=2,
                           text="< {limit:g} ms"),
    # 9: dispatch gap, 1 worker
    "s9.p99": Target("p99 dispatch gap, ms", "<=", limit=2, text="≤ {limit:g} ms"),
}
