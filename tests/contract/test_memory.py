"""No leak: 10**6 update / merge / serialize cycles leave the process's resident memory flat.

Each cycle updates a sketch with a small batch, merges another into it, and writes and reads it
back (bytes, pickle, and the DataSketches image where there is one), rotating over every sketch.
A leak of even 8 bytes a cycle would show as 8 MB; the bound allows 4 MB of allocator noise. The
first cycles, which fill the allocators' pools, are not measured.
"""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest

from sketchy import KLL, CountMinSketch, DDSketch, HyperLogLog, TopK, hash_many

CYCLES = 1_000_000
WARM_UP = 100_000
SLACK = 4 << 20

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cycles() -> list[Callable[[int], None]]:
    """One function per sketch: a cycle of update, merge and serialization, by cycle number."""
    words = [f"w{i}" for i in range(64)]
    floats = np.random.default_rng(16).lognormal(size=64)
    cms, cms2 = CountMinSketch(256, 3), CountMinSketch(256, 3)
    top, top2 = TopK(8), TopK(8)
    hll, hll2 = HyperLogLog(10), HyperLogLog(10)
    dsh, dsh2 = HyperLogLog(10, hash="datasketches"), HyperLogLog(10, hash="datasketches")
    dd, dd2 = DDSketch(0.02), DDSketch(0.02)
    kll, kll2 = KLL(64), KLL(64)

    def cms_cycle(i: int) -> None:
        cms.update(words[i % 56 : i % 56 + 8])
        cms2.add(words[i % 64])
        cms.merge(cms2)
        CountMinSketch.from_bytes(cms.to_bytes())

    def top_cycle(i: int) -> None:
        top.update(words[i % 56 : i % 56 + 8])
        top2.add(words[i % 64], i)
        top.merge(top2)
        top2.clear()
        if i % 2:
            TopK.from_datasketches(top.to_datasketches("str"), items="str")
        else:
            pickle.loads(pickle.dumps(top))

    def hll_cycle(i: int) -> None:
        sketch, other = (hll, hll2) if i % 2 else (dsh, dsh2)
        sketch.update(words[i % 56 : i % 56 + 8])
        other.update([i])
        sketch.merge(other)
        HyperLogLog.from_bytes(sketch.to_bytes())
        if i % 16 == 0:
            HyperLogLog.from_datasketches(dsh.to_datasketches("HLL_4"))
            hash_many(words, "xxh3_64")

    def dd_cycle(i: int) -> None:
        dd.update(floats[i % 56 : i % 56 + 8])
        dd2.update([float(i)])
        dd.merge(dd2)
        DDSketch.from_bytes(dd.to_bytes())
        dd.quantile(0.5)

    def kll_cycle(i: int) -> None:
        kll.update(floats[i % 56 : i % 56 + 8])
        kll2.update([float(i)])
        kll.merge(kll2)
        kll2.clear()
        if i % 2:
            KLL.from_datasketches(kll.to_datasketches())
        else:
            KLL.from_bytes(kll.to_bytes())
        kll.quantile(0.5)

    return [cms_cycle, top_cycle, hll_cycle, dd_cycle, kll_cycle]


def growth(workload: str) -> int:
    """Runs `workload` in a fresh interpreter (where freed memory of earlier tests cannot hide a
    leak) and returns how much its RSS grew over the measured cycles."""
    run = subprocess.run(
        [sys.executable, __file__, workload], capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode == 0, run.stderr
    return int(run.stdout)


def measure(workload: str) -> int:
    if workload == "cycles":
        work = cycles()

        def step(i: int) -> None:
            work[i % len(work)](i)

    else:  # "leak": keeps 8 bytes a cycle, to show that the measure sees it
        kept = bytearray()

        def step(i: int) -> None:
            kept.extend(b"leak 8 B")

    for i in range(WARM_UP):
        step(i)
    gc.collect()
    before = rss()
    for i in range(WARM_UP, CYCLES):
        step(i)
    gc.collect()
    return rss() - before


@pytest.mark.slow
def test_a_million_cycles_leave_rss_flat() -> None:
    grown = growth("cycles")
    assert grown < SLACK, f"RSS grew by {grown / 2**20:.1f} MiB over {CYCLES - WARM_UP:,} cycles"


def test_the_measure_sees_a_leak_of_8_bytes_a_cycle() -> None:
    """The bound is tight enough: 8 bytes kept per measured cycle grow RSS past it."""
    assert growth("leak") > SLACK


if __name__ == "__main__":
    print(measure(sys.argv[1]))
