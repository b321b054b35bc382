"""TopK: exact against collections.Counter while it can be, within its bounds after that."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest

from sketchy import TopK


def zipf_items(n: int, a: float, seed: int) -> list[int]:
    return (np.random.default_rng(seed).zipf(a, n) % 1_000_000).tolist()


@pytest.mark.parametrize("seed", range(5))
def test_exact_while_distinct_items_fit(seed):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(60)]
    stream = [rng.choice(words[: rng.randrange(1, 60)]) for _ in range(2000)]
    top = TopK(10, capacity=64)
    for start in range(0, len(stream), 300):
        top.update(stream[start : start + 300])
    assert top.error_bound == 0
    assert top.most_common(64) == Counter(stream).most_common()  # ties in first-seen order too
    assert top.most_common() == Counter(stream).most_common(10)
    for word in words:
        assert top[word] == Counter(stream)[word] and top.bounds(word) == (top[word], top[word])


@pytest.mark.parametrize("a", [1.1, 1.5, 2.0])
@pytest.mark.parametrize("capacity", [16, 100])
def test_bounds_hold_on_zipf_streams_before_and_after_merges(a, capacity):
    items = zipf_items(60_000, a, seed=int(a * 10) + capacity)
    truth = Counter(items)
    parts = [TopK(10, capacity=capacity, seed=1) for _ in range(8)]
    for i, part in enumerate(parts):
        part.update(items[i::8])  # round robin
    whole = TopK(10, capacity=capacity, seed=1)
    whole.update(items)
    merged = parts[0]
    for part in parts[1:]:
        merged = merged + part
    for summary in (whole, merged):
        assert summary.total == len(items)
        assert summary.error_bound <= 2 * len(items) / (capacity + 1)
        assert len(summary) <= capacity
        for item, count in truth.items():
            lower, upper = summary.bounds(item)
            assert lower <= count <= upper
            if count > summary.error_bound:
                assert item in summary, (item, count, summary.error_bound)
        # most_common's counts are the upper bounds, in order.
        common = summary.most_common(capacity)
        assert [c for _, c in common] == sorted((c for _, c in common), reverse=True)
        assert all(summary.bounds(item)[1] == c for item, c in common)
    heavy = [item for item, count in truth.items() if count > 2 * len(items) / (capacity + 1)]
    assert all(item in merged for item in heavy)
    assert heavy or capacity == 16  # with 100 counters there are guaranteed heavy hitters to find


def test_items_come_back_as_they_went_in():
    items = ["str", b"bytes", -5, 2**63 + 1, 2**64 - 1, 1.5, float("inf"), True, bytearray(b"ba")]
    top = TopK(20)
    top.update(items)
    got = [item for item, _ in top.most_common(20)]
    assert got == ["str", b"bytes", -5, 2**63 + 1, 2**64 - 1, 1.5, float("inf"), 1, b"ba"]
    assert [type(x) for x in got] == [str, bytes, int, int, int, float, float, int, bytes]
    nan = TopK(2)
    nan.add(float("nan"))
    nan.add(float("-nan"))
    assert math.isnan(nan.most_common()[0][0]) and nan.most_common()[0][1] == 2
    arrays = TopK(3)
    arrays.update(np.array([7, 7, 8], dtype=np.uint16))
    assert arrays.most_common() == [(7, 2), (8, 1)]
    strings = TopK(3)
    strings.update(np.array(["é", "é", "x"]))
    assert strings.most_common() == [("é", 2), ("x", 1)]


def test_counts_and_add():
    top = TopK(3)
    top.update(["a", "b", "c"], counts=[5, 1, 3])
    top.add("b", 10)
    top.update(np.array(["c"]), counts=2)
    assert top.most_common() == [("b", 11), ("a", 5), ("c", 5)]
    assert top.total == 21


def test_str_batch_is_refused_and_api():
    a = TopK(5, seed=1)
    with pytest.raises(TypeError, match="single str"):
        a.update("abracadabra")
    a.update(list("abracadabra"))
    a += a  # merging with itself doubles the counts
    assert a.most_common(2) == [("a", 10), ("b", 4)]
    assert repr(a) == "TopK(k=5, capacity=40, seed=1, total=22, error_bound=0)"
    b = a.copy()
    b.clear()
    assert b == TopK(5, seed=1) and len(b) == 0 and a != b and len(a) == 5
    assert "z" not in a and a["z"] == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(k=0), "k"),
        (dict(k=-1), "k"),
        (dict(k=10, capacity=5), "capacity"),
        (dict(k=2**25), "k"),
        (dict(k=3, capacity=2**25), "capacity"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TopK(**kwargs)


def test_failed_batches_change_nothing():
    top = TopK(3)
    top.update(["a", "b", "a"])
    before = top.to_bytes()
    # Bad items are checked for every sketch in test_contract.py; here, bad counts.
    with pytest.raises(ValueError):
        top.update(["x", "y"], counts=[1, -1])
    with pytest.raises(ValueError):
        top.add("x", -1)
    assert top.to_bytes() == before
