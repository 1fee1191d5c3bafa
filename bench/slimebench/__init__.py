"""slime benchmark harness (python3 stdlib only). Entry point: bench/run. See bench/README.md.

Runs each scenario against three targets in the same sitting:
  direct   the upstream itself (nginx or the python upstream pyup.py)
  haproxy  HAProxy as a plain one-hop reverse proxy in front of that upstream
  slime    a slime hub plus agent(s) in front of that upstream
and prints one table with absolute figures, ratios to HAProxy and to direct, and the targets.

Modules:
  common     paths, constants, log(), BenchError
  procs      processes this run starts (Proc), ports, cleanup, tool install, the references
  slime      the slime hub and agents (SlimeCtl, Hub)
  load       wrk with check.lua, and the small HTTP clients (blocking and asyncio)
  measure    CPU, RSS and heap from /proc and jcmd, hub connections, percentiles
  targets    every scenario's target (the one place thresholds are written)
  report     the results table, verdicts from targets, RESULTS.md and results.json
  main       the run: durations, scenario groups, retries, exit codes
  scenarios  one module per scenario; scenarios/__init__.py lists them in run order
"""
