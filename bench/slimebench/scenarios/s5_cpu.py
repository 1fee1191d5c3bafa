"""Scenario 5: CPU per request, utime+stime of the hub and agent process trees over scenario 1's
measurement window (s1_small_get.measure), divided by valid requests; nginx's and HAProxy's alongside."""


def rows(b, best, tg):
    g = b.figures(best, tg)
    b.res.add(5, "CPU per request (ms), during scenario 1 (direct: nginx; HAProxy; slime: hub+agent)",
              g("direct", "cpu_ms_per_req"), g("haproxy", "cpu_ms_per_req"), g("slime", "cpu_ms_per_req"),
              fmt="{:.4f}", ratio="x", target="s5.cpu")
