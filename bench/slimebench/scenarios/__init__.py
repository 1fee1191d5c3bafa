"""The scenarios, one module each, and the slime topologies they run in.

GROUPS lists in run order one slime topology each (a new hub and one agent, ready before the scenario
starts): the tag that names its logs and notes (s<first scenario>), the upstream ("nginx" or "pyup"), the
agent's worker count, the scenarios it serves, and run(bench, hub, selected), where hub is a slime.Hub or
the SlimeUnavailable that kept it from starting (the scenario then measures the references and shows
slime as n/a). A group whose upstream is None starts its own hubs: run(bench, None, selected).

A scenario module reads the run's settings and helpers from `bench` (main.Bench: durations, refs, slime,
res, figures(), wrk_err_note(), ...) and adds its rows with bench.res.add(..., target="s<n>.<name>"),
naming targets declared in targets.py.
"""
from collections import namedtuple

from . import (s1_small_get, s2_no_block, s3_slow_upstream, s4_transfers, s5_cpu, s6_sse, s7_memory,
               s8_abort_storm, s9_dispatch_gap)

Group = namedtuple("Group", "tag upstream workers scenarios run")


def _small_get(b, hub, sel):
    """Scenarios 1 and 5 share one measurement (5 is the CPU of 1's runs); 2 runs in the same topology."""
    if sel & {1, 5}:
        best, tg = s1_small_get.measure(b, hub)
        if 1 in sel:
            s1_small_get.rows(b, best, tg)
        if 5 in sel:
            s5_cpu.rows(b, best, tg)
    if 2 in sel:
        s2_no_block.run(b, hub)


def _one(module):
    return lambda b, hub, sel: module.run(b, hub)


GROUPS = [
    Group("s1", "nginx", s1_small_get.WORKERS, {1, 2, 5}, _small_get),
    Group("s3", "nginx", s3_slow_upstream.WORKERS, {3}, _one(s3_slow_upstream)),
    Group("s4", "nginx", s4_transfers.WORKERS, {4}, _one(s4_transfers)),
    Group("s6", "pyup", s6_sse.WORKERS, {6}, _one(s6_sse)),
    Group("s7", None, None, {7}, lambda b, hub, sel: s7_memory.run(b)),
    Group("s8", "pyup", s8_abort_storm.WORKERS, {8}, _one(s8_abort_storm)),
    Group("s9", "pyup", s9_dispatch_gap.WORKERS, {9}, _one(s9_dispatch_gap)),
]

ALL = sorted(set().union(*(g.scenarios for g in GROUPS)))
