"""Columnar (Arrow and numpy) batches against the native engines Polars and DuckDB, on the same data.

Every peer gets its data in its own format before the clock starts (a Polars Series built with
``pl.from_arrow`` / ``pl.Series``, an Arrow table registered with one DuckDB connection), so only the
work itself is timed. Polars and DuckDB run on their own thread pools, sketchy on its own (all cores;
``SKETCHY_NUM_THREADS`` caps it).

Targets (issue #11): ``hash_many`` on 1M Arrow str and on 10M int64 at least as fast as Polars'
``Series.hash()``, with no jump in ns per item from 1M to 30M int64; ``HyperLogLog.update`` from 1M
Arrow str (fresh sketch) and from 10M int64 ≤ 0.7x the time of Polars' ``approx_n_unique`` and of
DuckDB's ``approx_count_distinct``; ``update`` with a list of 1M str ≤ 0.5x ``len(set(items))``;
CountMinSketch and TopK batches from Arrow no slower per item than from numpy (the same tokens as a
numpy ``U`` array, the same ints as numpy int64); TopK top-10 of 1M tokens ≥ 1.5x faster than DuckDB's
``approx_top_k``; two threads updating two sketches ≥ 1.6x the throughput of one (run with
``SKETCHY_NUM_THREADS=1`` as well: without it a 10M batch already uses both cores of a 2-core
machine); and a failed batch on a 40 MB count-min sketch costs no copy of the sketch.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from sketchy import CountMinSketch, HyperLogLog, TopK, hash_many

M = 1_000_000
FAILED_BATCH_CALLS, FAILED_BATCH_ITEMS = 100, 1000


def polars():
    return pytest.importorskip("polars")


@pytest.fixture(scope="module")
def str_series(identifier_arrow):
    return polars().from_arrow(identifier_arrow)


@pytest.fixture(scope="module")
def int64_1m(int64_10m):
    return int64_10m[:M]


@pytest.fixture(scope="module")
def int64_10m_series(int64_10m):
    return polars().Series(int64_10m)


@pytest.fixture(scope="module")
def int64_1m_series(int64_1m):
    return polars().Series(int64_1m)


@pytest.fixture(scope="module")
def int64_30m_series(int64_30m):
    return polars().Series(int64_30m)


@pytest.fixture(scope="module")
def duckdb_con(identifier_arrow, int64_10m_arrow):
    """One DuckDB connection with the tables ``tokens`` (1M Arrow str) and ``ints`` (10M int64)."""
    duckdb = pytest.importorskip("duckdb")
    pa = pytest.importorskip("pyarrow")
    con = duckdb.connect()
    con.register("tokens", pa.table({"col": identifier_arrow}))
    con.register("ints", pa.table({"col": int64_10m_arrow}))
    yield con
    con.close()


@pytest.fixture(scope="module")
def distinct_tokens(identifier_tokens) -> int:
    return len(set(identifier_tokens))


def _close(estimate, exact, tolerance=0.05):
    assert abs(estimate / exact - 1) < tolerance, (estimate, exact)


def _hll(items):
    sketch = HyperLogLog(14)
    sketch.update(items)
    return sketch.estimate()


# --- hash_many ----------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="columnar/hash_many: pyarrow str 1M")
def test_hash_str_sketchy(benchmark, identifier_arrow):
    hashes = benchmark(hash_many, identifier_arrow)
    assert len(hashes) == M


@pytest.mark.benchmark(group="columnar/hash_many: pyarrow str 1M")
def test_hash_str_polars(benchmark, str_series):
    assert len(benchmark(str_series.hash)) == M


@pytest.mark.benchmark(group="columnar/hash_many: int64 1M")
def test_hash_int64_1m_sketchy(benchmark, int64_1m):
    assert len(benchmark(hash_many, int64_1m)) == M


@pytest.mark.benchmark(group="columnar/hash_many: int64 1M")
def test_hash_int64_1m_polars(benchmark, int64_1m_series):
    assert len(benchmark(int64_1m_series.hash)) == M


@pytest.mark.benchmark(group="columnar/hash_many: int64 10M")
def test_hash_int64_10m_sketchy(benchmark, int64_10m):
    assert len(benchmark(hash_many, int64_10m)) == 10 * M


@pytest.mark.benchmark(group="columnar/hash_many: int64 10M")
def test_hash_int64_10m_polars(benchmark, int64_10m_series):
    assert len(benchmark(int64_10m_series.hash)) == 10 * M


@pytest.mark.benchmark(group="columnar/hash_many: int64 30M")
def test_hash_int64_30m_sketchy(benchmark, int64_30m):
    assert len(benchmark(hash_many, int64_30m)) == 30 * M


@pytest.mark.benchmark(group="columnar/hash_many: int64 30M")
def test_hash_int64_30m_polars(benchmark, int64_30m_series):
    assert len(benchmark(int64_30m_series.hash)) == 30 * M


# --- HyperLogLog --------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="columnar/hll update: pyarrow str 1M, fresh sketch")
def test_hll_str_sketchy(benchmark, identifier_arrow, distinct_tokens):
    _close(benchmark(_hll, identifier_arrow), distinct_tokens)


@pytest.mark.benchmark(group="columnar/hll update: pyarrow str 1M, fresh sketch")
def test_hll_str_polars(benchmark, str_series, distinct_tokens):
    _close(benchmark(str_series.approx_n_unique), distinct_tokens)


@pytest.mark.benchmark(group="columnar/hll update: pyarrow str 1M, fresh sketch")
def test_hll_str_duckdb(benchmark, duckdb_con, distinct_tokens):
    sql = "select approx_count_distinct(col) from tokens"
    [estimate] = benchmark(lambda: duckdb_con.execute(sql).fetchone())
    _close(estimate, distinct_tokens)


@pytest.fixture(scope="module")
def distinct_int64_10m(int64_10m) -> int:
    return len(np.unique(int64_10m))


@pytest.mark.benchmark(group="columnar/hll update: int64 10M")
def test_hll_int64_sketchy(benchmark, int64_10m, distinct_int64_10m):
    _close(benchmark(_hll, int64_10m), distinct_int64_10m)


@pytest.mark.benchmark(group="columnar/hll update: int64 10M")
def test_hll_int64_polars(benchmark, int64_10m_series, distinct_int64_10m):
    _close(benchmark(int64_10m_series.approx_n_unique), distinct_int64_10m)


@pytest.mark.benchmark(group="columnar/hll update: int64 10M")
def test_hll_int64_duckdb(benchmark, duckdb_con, distinct_int64_10m):
    sql = "select approx_count_distinct(col) from ints"
    [estimate] = benchmark(lambda: duckdb_con.execute(sql).fetchone())
    _close(estimate, distinct_int64_10m, tolerance=0.1)


@pytest.mark.benchmark(group="columnar/hll update: list of 1M str")
def test_hll_list_str_sketchy(benchmark, identifier_tokens, distinct_tokens):
    _close(benchmark(_hll, identifier_tokens), distinct_tokens)


@pytest.mark.benchmark(group="columnar/hll update: list of 1M str")
def test_hll_list_str_python_set(benchmark, identifier_tokens, distinct_tokens):
    assert benchmark(lambda: len(set(identifier_tokens))) == distinct_tokens


# --- CountMinSketch and TopK: Arrow str against numpy int64, per item --------------------------------


def _updated(sketch, items):
    sketch.update(items)
    return sketch


@pytest.fixture(scope="module")
def identifier_numpy(identifier_tokens):
    """The same tokens as a numpy ``U`` array."""
    return np.array(identifier_tokens, dtype=str)


@pytest.fixture(scope="module")
def int64_1m_arrow(int64_10m_arrow):
    return int64_10m_arrow[:M]


@pytest.mark.benchmark(group="columnar/cms update: 1M str, arrow vs numpy U")
def test_cms_str_arrow_sketchy(benchmark, identifier_arrow):
    assert benchmark(lambda: _updated(CountMinSketch(2048, 5), identifier_arrow)).total == M


@pytest.mark.benchmark(group="columnar/cms update: 1M str, arrow vs numpy U")
def test_cms_str_numpy_sketchy(benchmark, identifier_numpy):
    assert benchmark(lambda: _updated(CountMinSketch(2048, 5), identifier_numpy)).total == M


@pytest.mark.benchmark(group="columnar/cms update: 1M int64, arrow vs numpy")
def test_cms_int_arrow_sketchy(benchmark, int64_1m_arrow):
    assert benchmark(lambda: _updated(CountMinSketch(2048, 5), int64_1m_arrow)).total == M


@pytest.mark.benchmark(group="columnar/cms update: 1M int64, arrow vs numpy")
def test_cms_int_numpy_sketchy(benchmark, int64_1m):
    assert benchmark(lambda: _updated(CountMinSketch(2048, 5), int64_1m)).total == M


@pytest.mark.benchmark(group="columnar/topk update: 1M str, arrow vs numpy U")
def test_topk_str_arrow_sketchy(benchmark, identifier_arrow):
    assert benchmark(lambda: _updated(TopK(10), identifier_arrow)).total == M


@pytest.mark.benchmark(group="columnar/topk update: 1M str, arrow vs numpy U")
def test_topk_str_numpy_sketchy(benchmark, identifier_numpy):
    assert benchmark(lambda: _updated(TopK(10), identifier_numpy)).total == M


@pytest.mark.benchmark(group="columnar/topk update: 1M int64, arrow vs numpy")
def test_topk_int_arrow_sketchy(benchmark, int64_1m_arrow):
    assert benchmark(lambda: _updated(TopK(10), int64_1m_arrow)).total == M


@pytest.mark.benchmark(group="columnar/topk update: 1M int64, arrow vs numpy")
def test_topk_int_numpy_sketchy(benchmark, int64_1m):
    assert benchmark(lambda: _updated(TopK(10), int64_1m)).total == M


# --- heavy hitters against DuckDB ---------------------------------------------------------------------


@pytest.mark.benchmark(group="columnar/topk: top-10 of 1M tokens")
def test_topk10_sketchy(benchmark, identifier_arrow):
    def run():
        top = TopK(10)
        top.update(identifier_arrow)
        return top.most_common(10)

    assert benchmark(run)[0][0] == "self"


@pytest.mark.benchmark(group="columnar/topk: top-10 of 1M tokens")
def test_topk10_duckdb(benchmark, duckdb_con):
    sql = "select approx_top_k(col, 10) from tokens"
    [top] = benchmark(lambda: duckdb_con.execute(sql).fetchone())
    assert top[0] == "self"


# --- threads ------------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="columnar/threads: 2 threads x 2 sketches")
def test_two_sketches_two_threads_sketchy(benchmark, int64_10m):
    """Throughput ratio: the median of ``test_two_sketches_one_thread`` over this one's."""

    def run():
        sketches = [HyperLogLog(14), HyperLogLog(14)]
        threads = [threading.Thread(target=s.update, args=(int64_10m,)) for s in sketches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sketches

    first, second = benchmark(run)
    assert first == second and first.estimate() > 0


@pytest.mark.benchmark(group="columnar/threads: 2 threads x 2 sketches")
def test_two_sketches_one_thread(benchmark, int64_10m):
    def run():
        sketches = [HyperLogLog(14), HyperLogLog(14)]
        for sketch in sketches:
            sketch.update(int64_10m)
        return sketches

    first, second = benchmark(run)
    assert first == second and first.estimate() > 0


# --- the cost of all-or-nothing batches ---------------------------------------------------------------


@pytest.fixture
def cms_40mb():
    """A count-min sketch of 1,000,000 × 5 u64 counters: 40 MB."""
    return CountMinSketch(width=1_000_000, depth=5)


@pytest.fixture(scope="module")
def short_lists(identifier_tokens) -> list[list]:
    """100 lists of 1000 tokens, each ending in an item no sketch takes (None)."""
    n = FAILED_BATCH_ITEMS
    return [[*identifier_tokens[i * n : (i + 1) * n - 1], None] for i in range(FAILED_BATCH_CALLS)]


@pytest.mark.benchmark(group="columnar/failed batch cost: 40 MB CMS, 1000-item lists")
def test_failed_batch_update_sketchy(benchmark, cms_40mb, short_lists):
    """100 ``update`` calls of 1000 items that fail at the last one: each leaves the sketch as it was."""
    before = cms_40mb.to_bytes()

    def run():
        for items in short_lists:
            try:
                cms_40mb.update(items)
            except TypeError:
                pass

    benchmark(run)
    assert cms_40mb.total == 0 and cms_40mb.to_bytes() == before


@pytest.mark.benchmark(group="columnar/failed batch cost: 40 MB CMS, 1000-item lists")
def test_failed_batch_copy_per_call(benchmark, cms_40mb):
    """100 ``copy`` calls: what making every update all-or-nothing with a copy of the sketch would cost."""

    def run():
        for _ in range(FAILED_BATCH_CALLS):
            cms_40mb.copy()

    benchmark.pedantic(run, rounds=3, iterations=1)
