"""HyperLogLog: accuracy over thousands of seeded trials, exact merging and reduction, the API."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from sketchy import HyperLogLog

HIP_ERROR = 0.8326  # sqrt(ln 2 / 2 · ...) ≈ 0.8326/√m: the HIP estimator's asymptotic relative error
HLL_ERROR = 1.04


def checkpoints(m: int) -> list[int]:
    """Cardinalities from 1 to 64·m, four points per octave."""
    top = 64 * m
    points = {round(2 ** (k / 4)) for k in range(int(4 * math.log2(top)) + 1)}
    return sorted(p for p in points if p <= top)


def sweep(precision: int, trials: int, merged_parts: int = 32):
    """Relative errors and bound coverage for `trials` independent streams (one seed per trial).

    Returns (points, single errors [trials × points], coverage [3 × trials × points], merged errors
    [trials × merged points], merged points, sparse flags [points]).
    """
    m = 1 << precision
    points = checkpoints(m)
    merged_points = [n for n in points if n >= 16 * m]
    items = np.arange(points[-1], dtype=np.uint64)
    errors = np.empty((trials, len(points)))
    covered = np.empty((3, trials, len(points)), dtype=bool)
    merged_errors = np.empty((trials, len(merged_points)))
    sparse = np.zeros(len(points), dtype=bool)
    for trial in range(trials):
        sketch = HyperLogLog(precision, seed=trial)
        parts = [HyperLogLog(precision, seed=trial) for _ in range(merged_parts)]
        done = merged_done = 0
        for i, n in enumerate(points):
            sketch.update(items[done:n])
            done = n
            estimate = sketch.estimate()
            errors[trial, i] = estimate / n - 1
            sparse[i] = sketch.is_sparse
            for k in (1, 2, 3):
                low, high = sketch.estimate_bounds(num_std=k)
                covered[k - 1, trial, i] = low <= n <= high
            if n in merged_points:
                chunk = items[merged_done:n]
                for j, part in enumerate(parts):  # round robin: item i goes to part i % 32
                    part.update(chunk[(j - merged_done) % merged_parts :: merged_parts])
                merged_done = n
                union = parts[0].copy()
                for part in parts[1:]:
                    union |= part
                merged_errors[trial, merged_points.index(n)] = union.estimate() / n - 1
    return np.array(points), errors, covered, merged_errors, np.array(merged_points), sparse


@pytest.mark.slow
@pytest.mark.parametrize(("precision", "trials"), [(10, 1000), (12, 1000), (14, 200)])
def test_accuracy_sweep(precision, trials):
    m = 1 << precision
    points, errors, covered, merged_errors, _, sparse = sweep(precision, trials)
    rmse = np.sqrt((errors**2).mean(axis=0))
    bias = errors.mean(axis=0)
    large = points >= 16 * m
    # One stream (HIP): ≤ 1.10 · 0.8326/√m asymptotically, ≤ 1.25 · 1.04/√m everywhere.
    assert rmse[large].max() <= 1.10 * HIP_ERROR / math.sqrt(m), rmse[large]
    assert rmse.max() <= 1.25 * HLL_ERROR / math.sqrt(m), (points[rmse.argmax()], rmse.max())
    # No bias beyond what T trials can resolve.
    assert (np.abs(bias) <= 4 * rmse / math.sqrt(trials) + 0.001).all(), (points, bias, rmse)
    # Sparse: near exact (an occasional hash collision at precision 25 costs one item).
    assert sparse[0] and rmse[sparse].max() <= 0.002 and np.abs(errors[:, sparse]).max() <= 0.01
    # The switch to dense does not show: no point past it is worse than the asymptotic error.
    first_dense = int(np.argmin(sparse))
    assert rmse[first_dense : first_dense + 8].max() <= 1.10 * HIP_ERROR / math.sqrt(m)
    # Merged (32-way round robin), Ertl's estimator: ≤ 1.10 · 1.04/√m.
    merged_rmse = np.sqrt((merged_errors**2).mean(axis=0))
    merged_bias = merged_errors.mean(axis=0)
    assert merged_rmse.max() <= 1.10 * HLL_ERROR / math.sqrt(m), merged_rmse
    assert (np.abs(merged_bias) <= 4 * merged_rmse / math.sqrt(trials) + 0.001).all(), merged_bias
    # Bounds of 1, 2 and 3 standard errors cover the truth about 68%, 95% and 99.7% of the time.
    dense_points = ~sparse & (points >= m)
    coverage = covered[:, :, dense_points].mean(axis=(1, 2))
    assert abs(coverage[0] - 0.683) <= 0.05, coverage
    assert abs(coverage[1] - 0.954) <= 0.025, coverage
    assert coverage[2] >= 0.985, coverage


def test_exact_when_tiny_and_empty():
    hll = HyperLogLog(14)
    assert hll.estimate() == 0 and len(hll) == 0 and hll.is_sparse
    hll.update(["a", "b", "a", b"a", 1, 1.0])  # "a" and b"a" are one item; 1 and 1.0 are two
    assert len(hll) == 4
    assert hll.estimate_bounds(3)[0] <= 4 <= hll.estimate_bounds(3)[1]


def test_big_ints_are_not_rounded():
    hll = HyperLogLog(10)
    hll.update([2**63 + 1, 2**63 + 2, 2**64 - 1, -1])  # -1 and 2**64 - 1 share a bit pattern
    assert len(hll) == 3


@pytest.mark.parametrize("n", [10, 300, 5000, 200_000])
def test_reduction_and_mixed_precision_merges_equal_direct_builds(n):
    items = np.random.default_rng(n).integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    direct = {p: HyperLogLog(p, seed=3) for p in (10, 12, 14)}
    for sketch in direct.values():
        sketch.update(items)
    a, b = HyperLogLog(14, seed=3), HyperLogLog(12, seed=3)
    a.update(items[::2])
    b.update(items[1::2])
    assert (a | b) == direct[12] and (b | a) == direct[12]
    c = HyperLogLog(10, seed=3)
    c.update(items[:5])
    a.merge(b)
    a.merge(c)
    a.update(items[5:])
    assert a == direct[10] and a.precision == 10


def test_merge_of_parts_equals_the_whole():
    items = np.arange(300_000, dtype=np.int64)
    whole = HyperLogLog(12)
    whole.update(items)
    parts = [HyperLogLog(12) for _ in range(5)]
    for part, chunk in zip(parts, np.array_split(items, 5), strict=True):
        part.update(chunk)
    merged = parts[0]
    for part in parts[1:]:
        merged = merged | part
    assert merged == whole
    assert abs(merged.estimate() / 300_000 - 1) < 4 * 1.04 / 64
    # Small streams stay sparse through the merge: the same bytes, HIP state included.
    small = [HyperLogLog(12) for _ in range(3)]
    for i, s in enumerate(small):
        s.update(range(i * 100, (i + 1) * 100))
    whole_small = HyperLogLog(12)
    whole_small.update(range(300))
    assert (small[0] | small[1] | small[2]).to_bytes() == whole_small.to_bytes()


def test_api():
    hll = HyperLogLog(precision=12, seed=5)
    hll.update(np.arange(10_000))
    assert (hll.precision, hll.seed, hll.relative_error) == (12, 5, 1.04 / 64)
    assert repr(hll).startswith("HyperLogLog(precision=12, seed=5, estimate=")
    twin = hll.copy()
    assert twin == hll and twin is not hll
    twin.update(np.arange(10_000, 20_000))
    assert twin != hll
    twin.clear()
    assert twin == HyperLogLog(12, seed=5) and len(twin) == 0
    assert pickle.loads(pickle.dumps(hll)) == hll
    assert pickle.loads(pickle.dumps(hll)).estimate() == hll.estimate()
    # A union with itself adds no register: the same as a union with an empty sketch (which, as any
    # merge, moves the estimate from HIP to the merged-sketch estimator).
    no_new_items = hll | HyperLogLog(12, seed=5)
    hll |= hll
    assert hll == no_new_items and len(hll) == len(no_new_items)
    with pytest.raises(ValueError, match="different seed"):
        hll.merge(HyperLogLog(12))
    with pytest.raises(ValueError, match="num_std"):
        hll.estimate_bounds(4)


def test_memory_and_serialized_sizes():
    dense = HyperLogLog(14)
    dense.update(np.arange(1_000_000))
    assert not dense.is_sparse
    assert dense.__sizeof__() <= 16.5 * 1024
    assert len(dense.to_bytes()) <= 12.5 * 1024
    small = HyperLogLog(14)
    small.update(range(100))
    assert small.is_sparse and len(small.to_bytes()) < 1024


@pytest.mark.parametrize("precision", [3, 19, -1, 100])
def test_bad_precision(precision):
    with pytest.raises(ValueError, match="precision"):
        HyperLogLog(precision)
