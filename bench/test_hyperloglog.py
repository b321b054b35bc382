"""HyperLogLog against Apache DataSketches (hll_sketch), datasketch and River, on the same items.

Targets (issue #5): ``add`` one item per call faster than datasketches' ``update``; ``update`` on 1M
distinct uint64 ≤ 5 ns per item (≥ 20x a datasketches loop); on 1M short str ≥ 4x the datasketches loop.
"""

from __future__ import annotations

import numpy as np
import pytest

from sketchy import HyperLogLog

CALLS = 100_000


@pytest.fixture(scope="session")
def distinct_uint64(rng) -> np.ndarray:
    return rng.choice(2**62, size=1_000_000, replace=False).astype(np.uint64)


def datasketches():
    return pytest.importorskip("datasketches")


@pytest.mark.benchmark(group="hll/add: 100k calls, one int each")
def test_add_int_sketchy(benchmark, call_each, distinct_uint64):
    items = distinct_uint64[:CALLS].tolist()

    benchmark(lambda: call_each(HyperLogLog(14).add, items))


@pytest.mark.benchmark(group="hll/add: 100k calls, one int each")
def test_add_int_datasketches(benchmark, call_each, distinct_uint64):
    items = distinct_uint64[:CALLS].tolist()

    benchmark(lambda: call_each(datasketches().hll_sketch(14).update, items))


@pytest.mark.benchmark(group="hll/add: 100k calls, one str each")
def test_add_str_sketchy(benchmark, call_each, short_str_keys):
    items = short_str_keys[:CALLS]

    benchmark(lambda: call_each(HyperLogLog(14).add, items))


@pytest.mark.benchmark(group="hll/add: 100k calls, one str each")
def test_add_str_datasketches(benchmark, call_each, short_str_keys):
    items = short_str_keys[:CALLS]

    benchmark(lambda: call_each(datasketches().hll_sketch(14).update, items))


@pytest.mark.benchmark(group="hll/update: 1M distinct uint64")
def test_update_uint64_sketchy(benchmark, distinct_uint64):
    hll = benchmark(lambda: _updated(HyperLogLog(14), distinct_uint64))
    assert abs(hll.estimate() / 1e6 - 1) < 0.03


def _updated(sketch, items):
    sketch.update(items)
    return sketch


@pytest.mark.benchmark(group="hll/update: 1M distinct uint64")
def test_update_uint64_datasketches_loop(benchmark, call_each, distinct_uint64):
    items = distinct_uint64.tolist()

    benchmark.pedantic(lambda: call_each(datasketches().hll_sketch(14).update, items), rounds=3)


@pytest.mark.benchmark(group="hll/update: list of 1M str")
def test_update_str_sketchy(benchmark, short_str_keys):
    benchmark(lambda: HyperLogLog(14).update(short_str_keys))


@pytest.mark.benchmark(group="hll/update: list of 1M str")
def test_update_str_datasketches_loop(benchmark, call_each, short_str_keys):
    benchmark.pedantic(lambda: call_each(datasketches().hll_sketch(14).update, short_str_keys), rounds=3)


@pytest.mark.benchmark(group="hll/update: list of 1M str")
def test_update_str_datasketch_loop(benchmark, short_str_keys):
    datasketch = pytest.importorskip("datasketch")

    def run():
        hll = datasketch.HyperLogLogPlusPlus(p=14)
        for x in short_str_keys:
            hll.update(x.encode())

    benchmark.pedantic(run, rounds=1)


@pytest.mark.benchmark(group="hll/update: list of 1M str")
def test_update_str_river_loop(benchmark, call_each, short_str_keys):
    sketch = pytest.importorskip("river.sketch")

    benchmark.pedantic(lambda: call_each(sketch.NUnique().update, short_str_keys), rounds=1)


# DataSketches hashing (hash="datasketches": MurmurHash3 seed 9001, the hll_sketch modes and images) against
# sketchy's own XXH3 and a datasketches hll_sketch loop, on the same items.


@pytest.fixture(scope="module")
def varied_str_keys() -> list[str]:
    """1,000,000 distinct str of 2 to 60 characters, a few of them non-ASCII (ids, words, paths), in a
    random order."""
    rng, n = np.random.default_rng(20261126), 1_000_000
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./@: " + "éüßñ日本語"
    weights = np.r_[np.full(len(alphabet) - 7, 1.0), np.full(7, 0.15)]
    lengths = np.minimum(rng.geometric(1 / 14, n), 52).tolist()
    chars = rng.choice(len(alphabet), size=sum(lengths), p=weights / weights.sum()).tolist()
    text = "".join(alphabet[c] for c in chars)
    ids = rng.permutation(n).tolist()
    keys, offset = [], 0
    for length, i in zip(lengths, ids, strict=True):
        keys.append(f"{text[offset : offset + length]}{i:x}")
        offset += length
    return keys


@pytest.fixture(scope="module")
def random_int64() -> np.ndarray:
    return np.random.default_rng(20261127).integers(
        -(2**63), 2**63 - 1, 1_000_000, dtype=np.int64, endpoint=True
    )


@pytest.mark.benchmark(group="hll/update: 1M str (datasketches hashing)")
def test_update_varied_str_sketchy_datasketches_hash(benchmark, varied_str_keys):
    hll = benchmark(lambda: _updated(HyperLogLog(14, hash="datasketches"), varied_str_keys))
    assert abs(hll.estimate() / 1e6 - 1) < 0.03


@pytest.mark.benchmark(group="hll/update: 1M str (datasketches hashing)")
def test_update_varied_str_sketchy_xxh3(benchmark, varied_str_keys):
    hll = benchmark(lambda: _updated(HyperLogLog(14), varied_str_keys))
    assert abs(hll.estimate() / 1e6 - 1) < 0.03


@pytest.mark.benchmark(group="hll/update: 1M str (datasketches hashing)")
def test_update_varied_str_datasketches_loop(benchmark, call_each, varied_str_keys):
    benchmark.pedantic(lambda: call_each(datasketches().hll_sketch(14).update, varied_str_keys), rounds=3)


@pytest.mark.benchmark(group="hll/update: 1M int64 (datasketches hashing)")
def test_update_int64_sketchy_datasketches_hash(benchmark, random_int64):
    hll = benchmark(lambda: _updated(HyperLogLog(14, hash="datasketches"), random_int64))
    assert abs(hll.estimate() / 1e6 - 1) < 0.03


@pytest.mark.benchmark(group="hll/update: 1M int64 (datasketches hashing)")
def test_update_int64_list_sketchy_datasketches_hash(benchmark, random_int64):
    items = random_int64.tolist()

    benchmark(lambda: HyperLogLog(14, hash="datasketches").update(items))


@pytest.mark.benchmark(group="hll/update: 1M int64 (datasketches hashing)")
def test_update_int64_sketchy_xxh3(benchmark, random_int64):
    hll = benchmark(lambda: _updated(HyperLogLog(14), random_int64))
    assert abs(hll.estimate() / 1e6 - 1) < 0.03


@pytest.mark.benchmark(group="hll/update: 1M int64 (datasketches hashing)")
def test_update_int64_datasketches_loop(benchmark, call_each, random_int64):
    items = random_int64.tolist()

    benchmark.pedantic(lambda: call_each(datasketches().hll_sketch(14).update, items), rounds=3)
