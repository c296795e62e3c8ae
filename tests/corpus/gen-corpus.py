#!/usr/bin/env python3
"""gen-corpus.py: the labelled corpus of memory and latency traces that
`make bench` (bench/bench-detect) and tests/e2e/corpus.sh run the example
rules over. See tests/corpus/README.md.

Deterministic: one seed, and a self-contained PRNG (splitmix64 + Box-Muller),
so the same files come out on every machine and Python version.

Usage: gen-corpus.py [--out DIR] [--per-class N] [--seed S]

Writes DIR/CLASS-K.csv (one trace each) and DIR/labels.csv with the columns
  file, class, rules, expect, leak_start, start, end
where rules is the example rules file that applies (node-leak or latency),
expect is "fire" (a leak or a latency creep: every example rule set must
alert) or "quiet" (a control: no rule may alert), and leak_start is the unix
second the leak or creep begins (empty for controls).

Memory traces: 1-minute samples of
  time, web.rss, web.pid, web.limit,
  webm.nodejs_heap_space_size_used_bytes{space="old"}
with a GC sawtooth on top of the live set (the floor), jittered GC periods
and gaussian noise. Latency traces: 15-second probes of
  time, checkout.latency, checkout.up
with log-normal noise and rare slow outliers.
"""

import argparse
import math
import os
import sys

START = 1767571200          # 2026-01-05T00:00:00Z
MB = 1e6
MIN = 60
HOUR = 3600
DAY = 86400
LIMIT = 2e9                 # web.limit: the process's memory limit


class Rng:
    """splitmix64 with Box-Muller: reproducible everywhere."""

    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFFFFFFFFFF
        self.spare = None

    def next64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def unit(self):
        return ((self.next64() >> 11) + 0.5) / 9007199254740992.0

    def uniform(self, a, b):
        return a + (b - a) * self.unit()

    def gauss(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        u, v = self.unit(), self.unit()
        r = math.sqrt(-2 * math.log(u))
        self.spare = r * math.sin(2 * math.pi * v)
        return r * math.cos(2 * math.pi * v)


OLD_HDR = 'webm.nodejs_heap_space_size_used_bytes{space="old"}'


def csv_name(name):
    if any(c in name for c in ',"'):
        return '"' + name.replace('"', '""') + '"'
    return name


def memory_trace(rng, hours, floor_fn, pid_fn, spikes=()):
    """Rows of a memory trace. floor_fn(t) is the live set at t seconds
    (after the trace start), pid_fn(t) the process id; a GC sawtooth of
    15-30 % of the floor with periods of 3-8 min rides on top."""
    rows = []
    amp = rng.uniform(0.15, 0.30)
    gc_len = rng.uniform(180, 480)
    gc_start = 0.0
    noise = rng.uniform(0.004, 0.01)
    old_share = rng.uniform(0.45, 0.6)
    spikes = dict(spikes)
    last_pid = None
    for k in range(int(hours * 60) + 1):
        t = k * MIN
        pid = pid_fn(t)
        if pid != last_pid:
            gc_start = t            # a fresh heap
            last_pid = pid
        while t - gc_start >= gc_len:
            gc_start += gc_len
            gc_len = rng.uniform(180, 480)
        phase = (t - gc_start) / gc_len
        f = floor_fn(t)
        rss = f * (1 + amp * phase + noise * rng.gauss())
        old = old_share * f * (1 + 0.5 * amp * phase + noise * rng.gauss())
        if k in spikes:
            rss *= spikes[k]
        rows.append((START + t, int(rss), pid, int(LIMIT), int(old)))
    return ["time,web.rss,web.pid,web.limit," + csv_name(OLD_HDR)], \
        ["%d,%d,%d,%d,%d" % r for r in rows]


def latency_trace(rng, hours, p50_fn):
    """Rows of a latency trace: probes every 15 s, log-normal around
    p50_fn(t) (sigma 0.15-0.3), 0.5 % slow outliers (3-8x), 0.1 % failed
    probes (up 0, no latency)."""
    sigma = rng.uniform(0.15, 0.3)
    lines = []
    for k in range(int(hours * 240) + 1):
        t = k * 15
        lat = p50_fn(t) * math.exp(sigma * rng.gauss())
        up = 1
        u = rng.unit()
        if u < 0.005:
            lat *= rng.uniform(3, 8)
        elif u < 0.006:
            up = 0                  # a failed probe has no latency
        lines.append("%d,%s,%d" % (START + t, "%.6f" % lat if up else "",
                                    up))
    return ["time,checkout.latency,checkout.up"], lines


def warm(base, t, tau, lo=0.4):
    """A warm-up ramp from lo*base to base with time constant tau."""
    return base * (1 - (1 - lo) * math.exp(-t / tau))


def make_classes():
    """(class, rules, expect, hours, builder(rng) -> (header, rows,
    leak_start_offset or None))."""
    C = []

    def leak(kind, double_s, hours):
        def build(rng):
            base = rng.uniform(150, 400) * MB
            t0 = rng.uniform(0.5, 2) * HOUR     # the leak begins
            tau = rng.uniform(10, 30) * MIN

            def floor(t):
                f = warm(base, t, tau)
                if t > t0:
                    x = (t - t0) / double_s
                    f += base * (x if kind == "linear" else 2 ** x - 1)
                return f
            h, r = memory_trace(rng, hours, floor, lambda t: 4242)
            return h, r, t0
        return build

    C.append(("leak-linear-2x1d", "node-leak", "fire", 36, leak("linear", DAY, 36)))
    C.append(("leak-linear-2x3d", "node-leak", "fire", 48, leak("linear", 3 * DAY, 48)))
    C.append(("leak-linear-2x7d", "node-leak", "fire", 72, leak("linear", 7 * DAY, 72)))
    C.append(("leak-exp-2x1d", "node-leak", "fire", 36, leak("exp", DAY, 36)))
    C.append(("leak-exp-2x7d", "node-leak", "fire", 72, leak("exp", 7 * DAY, 72)))

    def restart_mid_leak(rng):
        base = rng.uniform(150, 400) * MB
        t0 = rng.uniform(0.5, 1.5) * HOUR
        tr = rng.uniform(14, 22) * HOUR       # the restart
        tau = rng.uniform(10, 30) * MIN

        def floor(t):
            if t < tr:
                return warm(base, t, tau) + base * max(0, t - t0) / DAY
            s = t - tr
            return warm(base, s, tau) + base * max(0, s - t0) / DAY
        h, r = memory_trace(rng, 40, floor,
                            lambda t: 4242 if t < tr else 5151)
        return h, r, t0
    C.append(("restart-mid-leak", "node-leak", "fire", 40, restart_mid_leak))

    def healthy(rng):
        base = rng.uniform(150, 400) * MB
        tau = rng.uniform(10, 30) * MIN
        h, r = memory_trace(rng, 48, lambda t: warm(base, t, tau),
                            lambda t: 4242)
        return h, r, None
    C.append(("healthy-sawtooth", "node-leak", "quiet", 48, healthy))

    def warmup(rng):
        base = rng.uniform(150, 400) * MB
        tau = rng.uniform(40, 90) * MIN       # a slow warm-up
        h, r = memory_trace(rng, 48, lambda t: warm(base, t, tau, 0.25),
                            lambda t: 4242)
        return h, r, None
    C.append(("warmup-plateau", "node-leak", "quiet", 48, warmup))

    def cache_cap(rng):
        base = rng.uniform(150, 400) * MB
        cap = rng.uniform(0.5, 1.0) * base     # the cache's size at its cap
        t1 = rng.uniform(1, 3) * HOUR          # traffic starts filling it
        tau = rng.uniform(60, 120) * MIN
        w = rng.uniform(10, 30) * MIN

        def floor(t):
            f = warm(base, t, w)
            if t > t1:
                f += cap * (1 - math.exp(-(t - t1) / tau))
            return f
        h, r = memory_trace(rng, 48, floor, lambda t: 4242)
        return h, r, None
    C.append(("cache-fill-cap", "node-leak", "quiet", 48, cache_cap))

    def spikes(rng):
        base = rng.uniform(150, 400) * MB
        tau = rng.uniform(10, 30) * MIN
        sp = {}
        for _ in range(5):
            k = int(rng.uniform(2, 47) * 60)
            sp[k] = rng.uniform(1.8, 2.2)      # a moment at 2x
            if rng.unit() < 0.5:
                sp[k + 1] = rng.uniform(1.5, 2.0)
        h, r = memory_trace(rng, 48, lambda t: warm(base, t, tau),
                            lambda t: 4242, sp.items())
        return h, r, None
    C.append(("one-off-spikes", "node-leak", "quiet", 48, spikes))

    def deploys(rng):
        base = rng.uniform(150, 400) * MB
        tau = rng.uniform(10, 40) * MIN
        every = rng.uniform(5, 9) * HOUR

        def floor(t):
            return warm(base, t % every, tau, 0.3)
        h, r = memory_trace(rng, 48, floor,
                            lambda t: 1000 + int(t // every))
        return h, r, None
    C.append(("healthy-restarts", "node-leak", "quiet", 48, deploys))

    def lat_double(rng):
        p0 = rng.uniform(0.15, 0.3)
        t0 = rng.uniform(1, 3) * HOUR
        return latency_trace(rng, 48, lambda t: p0 * 2 ** (max(0, t - t0) / DAY)) + (t0,)
    C.append(("latency-2x1d", "latency", "fire", 48, lat_double))

    def lat_flat(rng):
        p0 = rng.uniform(0.15, 0.4)
        return latency_trace(rng, 48, lambda t: p0) + (None,)
    C.append(("latency-flat-noisy", "latency", "quiet", 48, lat_flat))
    return C


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=".")
    ap.add_argument("--per-class", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20260105)
    ap.add_argument("--only", default="", help="comma-separated classes")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = set(x for x in a.only.split(",") if x)
    labels = ["file,class,rules,expect,leak_start,start,end"]
    for ci, (cls, rules, expect, hours, build) in enumerate(make_classes()):
        if only and cls not in only:
            continue
        for k in range(a.per_class):
            rng = Rng(a.seed * 1000003 + ci * 1009 + k)
            header, rows, t0 = build(rng)
            name = "%s-%d.csv" % (cls, k + 1)
            with open(os.path.join(a.out, name), "w") as f:
                f.write("\n".join(header + rows) + "\n")
            labels.append("%s,%s,%s,%s,%s,%d,%d" % (
                name, cls, rules, expect,
                "" if t0 is None else "%d" % (START + t0),
                START, START + int(hours * HOUR)))
    with open(os.path.join(a.out, "labels.csv"), "w") as f:
        f.write("\n".join(labels) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
