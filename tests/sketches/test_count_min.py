"""CountMinSketch: its guarantees over many seeded streams, its API, and its bad-input handling."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from sketchy import CountMinSketch


def zipf_stream(n: int, a: float, seed: int, universe: int = 100_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.zipf(a, n) % universe).astype(np.int64)


def binomial_upper(n: int, p: float, z: float = 5.0) -> float:
    """A count above which a Binomial(n, p) variable lands with probability < 1e-6 (normal tail, z=5)."""
    return n * p + z * math.sqrt(n * p * (1 - p)) + 1


# --- guarantees ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", ["zipf", "uniform"])
@pytest.mark.parametrize("conservative", [False, True])
def test_never_underestimates_and_errors_stay_within_delta(stream, conservative):
    epsilon, delta = 0.002, 0.05
    exceed = checked = 0
    for trial in range(10):
        if stream == "zipf":
            items = zipf_stream(100_000, 1.1, seed=trial)
        else:
            items = np.random.default_rng(trial).integers(0, 20_000, 100_000)
        cms = CountMinSketch.from_error(epsilon, delta, seed=trial, conservative=conservative)
        cms.update(items)
        truth = Counter(items.tolist())
        distinct = np.fromiter(truth, dtype=np.int64)
        true = np.fromiter(truth.values(), dtype=np.int64)
        estimates = cms.estimate_many(distinct).astype(np.int64)
        assert (estimates >= true).all(), "an estimate below the true count"
        assert cms.total == len(items)
        exceed += int((estimates - true > epsilon * cms.total).sum())
        checked += len(distinct)
    # Each item exceeds ε·N with probability ≤ δ (for the standard sketch; conservative is tighter).
    assert exceed <= binomial_upper(checked, delta), (exceed, checked)


def test_conservative_update_is_more_accurate_on_zipf():
    items = zipf_stream(200_000, 1.1, seed=42)
    truth = Counter(items.tolist())
    distinct = np.fromiter(truth, dtype=np.int64)
    true = np.fromiter(truth.values(), dtype=np.int64)
    errors = {}
    for conservative in (False, True):
        cms = CountMinSketch(width=1024, depth=4, seed=1, conservative=conservative)
        cms.update(items)
        errors[conservative] = float((cms.estimate_many(distinct) - true).mean())
    assert errors[True] < 0.75 * errors[False], errors  # 0.55 with this seed


@pytest.mark.parametrize("width", [256, 257, 1000, 1024, 2048])
def test_rows_are_independent(width):
    """P(two items collide in row 1 | they collide in row 0) stays near 1/width, powers of two too.

    An item's counter in each row is read from the serialized counters of a sketch holding only it.
    """
    cms = CountMinSketch(width=width, depth=2, seed=7)
    n = 10 * width  # about 50·width pairs collide in row 0, so about 50 in both rows
    positions = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        cms.clear()
        cms.add(i)
        counters = np.frombuffer(cms.to_bytes()[-8 * 2 * width :], dtype="<u8").reshape(2, width)
        positions[i] = counters.argmax(axis=1)
    by_row0: dict[int, list[int]] = {}
    for i, p in enumerate(positions[:, 0].tolist()):
        by_row0.setdefault(p, []).append(i)
    pairs = both = 0
    for members in by_row0.values():
        row1 = Counter(positions[members, 1].tolist())
        pairs += len(members) * (len(members) - 1) // 2
        both += sum(c * (c - 1) // 2 for c in row1.values())
    assert pairs > 40 * width
    assert both <= binomial_upper(pairs, 1 / width), (both, pairs, pairs / width)
    assert both >= pairs / width / 4  # not suspiciously few either


# --- API -------------------------------------------------------------------------------------------


def test_parameters_and_properties():
    cms = CountMinSketch.from_error(epsilon=0.001, delta=0.01, seed=3, conservative=True)
    assert (cms.width, cms.depth, cms.seed, cms.conservative) == (2719, 5, 3, True)
    assert cms.epsilon == pytest.approx(math.e / 2719) and cms.delta == pytest.approx(math.exp(-5))
    assert repr(cms) == "CountMinSketch(width=2719, depth=5, seed=3, conservative=True, total=0)"
    default = CountMinSketch()
    assert (default.width, default.depth, default.seed, default.conservative) == (2048, 5, 0, False)
    default.update(["a"] * 10)
    assert default.error_bound == pytest.approx(default.epsilon * 10)


def test_items_hash_alike_in_every_input_kind():
    cms = CountMinSketch(width=64, depth=3)
    cms.add(5)
    cms.update(np.array([5], dtype=np.int32))
    cms.update([5, np.int8(5)])
    cms.update(np.array([5], dtype=np.uint64))
    assert cms[5] >= 5 and cms[np.int16(5)] == cms[5]
    exact = CountMinSketch(width=2**16, depth=4)
    exact.update(["x", b"x", 1.5, 7], counts=[1, 2, 3, 4])
    assert (exact["x"], exact[1.5], exact[7], exact[8]) == (3, 3, 4, 0)  # "x" and b"x": one item


def test_counts_scalar_and_per_item():
    cms = CountMinSketch(width=2**16, depth=4)
    cms.update(["a", "b"], counts=5)
    cms.update(np.array(["a", "c"]), counts=np.array([1, 2], dtype=np.uint8))
    assert (cms["a"], cms["b"], cms["c"], cms.total) == (6, 5, 2, 13)
    cms.add("a", np.int64(4))
    assert cms["a"] == 10


def test_merge_of_parts_equals_the_whole():
    items = zipf_stream(50_000, 1.2, seed=9)
    parts = [CountMinSketch(width=500, depth=4, seed=5) for _ in range(4)]
    for part, chunk in zip(parts, np.array_split(items, 4), strict=True):
        part.update(chunk)
    whole = CountMinSketch(width=500, depth=4, seed=5)
    whole.update(items)
    merged = parts[0] + parts[1] + parts[2] + parts[3]
    assert merged == whole and merged.to_bytes() == whole.to_bytes()
    in_place = parts[0].copy()
    for part in parts[1:]:
        in_place.merge(part)
    assert in_place == whole
    assert parts[0] != whole  # `+` did not touch its operands


def test_sizeof_is_the_counters():
    # Copies, clearing and equality are checked for every sketch in test_contract.py.
    cms = CountMinSketch(width=1000, depth=5)
    cms.update(range(100))
    counters = 1000 * 5 * 8
    assert counters <= cms.__sizeof__() <= counters * 1.05 + 256
    big = CountMinSketch(width=2**20, depth=8)
    assert 2**23 * 8 <= big.__sizeof__() <= 2**23 * 8 * 1.05


def test_counters_never_wrap():
    cms = CountMinSketch(width=16, depth=2)
    cms.add("a", 2**64 - 2)
    before = cms.to_bytes()
    with pytest.raises(OverflowError):
        cms.add("b", 2)
    with pytest.raises(OverflowError):
        cms.update(["b", "c"], counts=2**63)
    with pytest.raises(OverflowError):
        cms.merge(cms)
    assert cms.to_bytes() == before
    cms.add("a", 1)
    assert cms["a"] == 2**64 - 1


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(width=0), "width"),
        (dict(width=-3), "width"),
        (dict(depth=0), "depth"),
        (dict(depth=65), "depth"),
        (dict(width=2**26, depth=8), "cap"),
        (dict(width=2**40), "width"),
        (dict(seed=-1), "seed"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises((ValueError, OverflowError), match=match):
        CountMinSketch(**kwargs)


@pytest.mark.parametrize(
    ("epsilon", "delta"), [(0, 0.1), (1, 0.1), (0.1, 0), (0.1, 1.5), (-1, 0.1), (float("nan"), 0.1)]
)
def test_bad_error_parameters(epsilon, delta):
    with pytest.raises(ValueError, match=r"epsilon|delta"):
        CountMinSketch.from_error(epsilon, delta)


def test_failed_batches_change_nothing():
    cms = CountMinSketch(width=64, depth=3)
    cms.update(["a", "b"])
    before = cms.to_bytes()
    # Bad items are checked for every sketch in test_contract.py; here, bad counts.
    with pytest.raises(TypeError):
        cms.update(np.array([1.0j]))
    for counts, error in [
        ([1, -1], ValueError),
        ([1], ValueError),
        ([1.5, 2], TypeError),
        (-2, ValueError),
        ("x", TypeError),
    ]:
        with pytest.raises(error):
            cms.update(["c", "d"], counts=counts)
        assert cms.to_bytes() == before
    with pytest.raises(TypeError):
        cms.add("a", 1.5)
    with pytest.raises(TypeError):
        cms[None]
    assert cms.to_bytes() == before


def test_estimate_many_matches_getitem():
    cms = CountMinSketch(width=128, depth=4)
    items = zipf_stream(5000, 1.3, seed=1)
    cms.update(items.tolist())
    probe = list(range(50)) + ["absent"]
    assert cms.estimate_many(probe).tolist() == [cms[x] for x in probe]
    assert cms.estimate_many(np.arange(50)).tolist() == [cms[x] for x in range(50)]
    # Items keep one encoding whatever the batch: numpy widths, Arrow and lists agree.
    ints = [cms[x] for x in range(50)]
    for dtype in (np.int8, np.uint16, np.int32, np.uint64):
        assert cms.estimate_many(np.arange(50, dtype=dtype)).tolist() == ints
    words = ["absent", "x", "zürich"]
    assert cms.estimate_many(pa.array(words)).tolist() == [cms[w] for w in words]
