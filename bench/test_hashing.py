"""sketchy's hashing against mmh3, xxhash, scikit-learn and pandas, on the same keys in one run.

Run on a release build: ``pip install '.[bench]' && pytest bench/test_hashing.py --benchmark-only``.
Targets (issue #2): a single call costs no more than mmh3/xxhash; ``hash_many`` over 1M short str is
≥ 5x faster than a ``mmh3.hash`` loop; over 1M uint64 ≤ 5 ns per key; over int32 faster than
``sklearn.utils.murmurhash3_32``.
"""

from __future__ import annotations

import threading

import mmh3
import numpy as np
import pytest
import xxhash

import sketchy

KEY = "0123456789abcdef"  # 16 bytes
KEY_BYTES = KEY.encode()
CALLS = 10_000


def call_many(function, key) -> None:
    """CALLS calls in a tight loop: one call alone is too short for the benchmark's timer."""
    for _ in range(CALLS):
        function(key)


@pytest.mark.benchmark(group="hash/10k single calls murmur3_32 (16-byte str)")
def test_single_murmur3_32_sketchy(benchmark):
    assert sketchy.murmur3_32(KEY) == mmh3.hash(KEY)
    benchmark(call_many, sketchy.murmur3_32, KEY)


@pytest.mark.benchmark(group="hash/10k single calls murmur3_32 (16-byte str)")
def test_single_murmur3_32_mmh3(benchmark):
    benchmark(call_many, mmh3.hash, KEY)


@pytest.mark.benchmark(group="hash/10k single calls xxh64 (16 bytes)")
def test_single_xxh64_sketchy(benchmark):
    assert sketchy.xxh64(KEY_BYTES) == xxhash.xxh64_intdigest(KEY_BYTES)
    benchmark(call_many, sketchy.xxh64, KEY_BYTES)


@pytest.mark.benchmark(group="hash/10k single calls xxh64 (16 bytes)")
def test_single_xxh64_xxhash(benchmark):
    benchmark(call_many, xxhash.xxh64_intdigest, KEY_BYTES)


@pytest.mark.benchmark(group="hash/list of 1M str")
def test_list_murmur3_32_sketchy(benchmark, short_str_keys):
    out = benchmark(sketchy.hash_many, short_str_keys, "murmur3_32")
    assert out.view(np.int32)[0] == mmh3.hash(short_str_keys[0])


@pytest.mark.benchmark(group="hash/list of 1M str")
def test_list_xxh3_64_sketchy(benchmark, short_str_keys):
    benchmark(sketchy.hash_many, short_str_keys)


@pytest.mark.benchmark(group="hash/list of 1M str")
def test_list_mmh3_loop(benchmark, short_str_keys):
    benchmark.pedantic(lambda: [mmh3.hash(s) for s in short_str_keys], rounds=5)


@pytest.mark.benchmark(group="hash/list of 1M str")
def test_list_xxhash_loop(benchmark, short_str_keys):
    benchmark.pedantic(lambda: [xxhash.xxh3_64_intdigest(s.encode()) for s in short_str_keys], rounds=5)


@pytest.mark.benchmark(group="hash/numpy uint64 1M")
def test_uint64_xxh3_64_sketchy(benchmark, uint64_keys):
    benchmark(sketchy.hash_many, uint64_keys)


@pytest.mark.benchmark(group="hash/numpy uint64 1M")
def test_uint64_murmur3_32_sketchy(benchmark, uint64_keys):
    benchmark(sketchy.hash_many, uint64_keys, "murmur3_32")


@pytest.mark.benchmark(group="hash/numpy uint64 1M")
def test_uint64_pandas_hash_array(benchmark, uint64_keys):
    pd = pytest.importorskip("pandas")
    benchmark(pd.util.hash_array, uint64_keys)


@pytest.mark.benchmark(group="hash/numpy int32 1M")
def test_int32_murmur3_32_sketchy(benchmark, int32_keys):
    benchmark(sketchy.hash_many, int32_keys, "murmur3_32")


@pytest.mark.benchmark(group="hash/numpy int32 1M")
def test_int32_sklearn_murmurhash3_32(benchmark, int32_keys):
    murmurhash3_32 = pytest.importorskip("sklearn.utils").murmurhash3_32
    benchmark(murmurhash3_32, int32_keys)


def hash_in_threads(keys: np.ndarray, threads: int) -> None:
    workers = [threading.Thread(target=sketchy.hash_many, args=(keys, "murmur3_32")) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


@pytest.mark.benchmark(group="hash/GIL released: 1M uint64 per thread")
def test_threads_1_sketchy(benchmark, uint64_keys):
    benchmark(hash_in_threads, uint64_keys, 1)


@pytest.mark.benchmark(group="hash/GIL released: 1M uint64 per thread")
def test_threads_2_sketchy(benchmark, uint64_keys):
    """About the time of one thread on 2 cores when the GIL is released, twice as long if held."""
    benchmark(hash_in_threads, uint64_keys, 2)
