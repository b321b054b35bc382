"""DDSketch and KLL against the ``ddsketch`` package, ``fastdigest`` (t-digest), Apache DataSketches
(``kll_doubles_sketch``) and ``numpy.quantile``, on the same 1M lognormal float64 values.

Groups: ``update`` of the whole array (the pure-Python ``ddsketch`` loop over it once), ``add`` one
value per call (100k calls), merging 100 partitions of 10k values, 11 quantiles of a filled sketch,
and serialization (whose sizes are printed and kept in ``extra_info``).
"""

from __future__ import annotations

import numpy as np
import pytest

from sketchy import KLL, DDSketch

CALLS = 100_000
PARTS = 100
QS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999]


@pytest.fixture(scope="session")
def lognormal() -> np.ndarray:
    """1,000,000 float64 values, lognormal(0, 2): latencies spanning eight orders of magnitude."""
    return np.random.default_rng(20261126).lognormal(0, 2, 1_000_000)


@pytest.fixture(scope="session")
def latencies() -> np.ndarray:
    """1,000,000 latencies in seconds from 1 ms to 1 min (lognormal around 0.2 s, clipped)."""
    return np.clip(np.random.default_rng(20261127).lognormal(np.log(0.2), 2.0, 1_000_000), 0.001, 60.0)


def datasketches():
    return pytest.importorskip("datasketches")


def _updated(sketch, values):
    sketch.update(values)
    return sketch


# --- update: the whole array -----------------------------------------------------------------------


@pytest.mark.benchmark(group="quantiles/update: 1M lognormal float64")
def test_update_ddsketch_sketchy(benchmark, lognormal):
    sketch = benchmark(lambda: _updated(DDSketch(0.01), lognormal))
    assert sketch.count == len(lognormal)


@pytest.mark.benchmark(group="quantiles/update: 1M lognormal float64")
def test_update_kll_sketchy(benchmark, lognormal):
    sketch = benchmark(lambda: _updated(KLL(200), lognormal))
    assert sketch.count == len(lognormal)


@pytest.mark.benchmark(group="quantiles/update: 1M lognormal float64")
def test_update_kll_datasketches(benchmark, lognormal):
    kll = datasketches().kll_doubles_sketch
    sketch = benchmark(lambda: _updated(kll(200), lognormal))
    assert sketch.n == len(lognormal)


@pytest.mark.benchmark(group="quantiles/update: 1M lognormal float64")
def test_update_tdigest_fastdigest(benchmark, lognormal):
    fastdigest = pytest.importorskip("fastdigest")

    def run():
        digest = fastdigest.TDigest()
        digest.batch_update(lognormal)
        return digest

    assert benchmark(run).n_values == len(lognormal)


@pytest.mark.benchmark(group="quantiles/update: 1M lognormal float64")
def test_update_ddsketch_package_loop(benchmark, call_each, lognormal):
    """Pure Python, one ``add`` per value: one round (a few seconds)."""
    ddsketch = pytest.importorskip("ddsketch")
    values = lognormal.tolist()

    benchmark.pedantic(lambda: call_each(ddsketch.DDSketch(relative_accuracy=0.01).add, values), rounds=1)


@pytest.mark.benchmark(group="quantiles/update: 1M lognormal float64")
def test_numpy_quantile_for_context(benchmark, lognormal):
    """Not a sketch: the exact answers, sorting (partitioning) a copy of the whole array."""
    benchmark(lambda: np.quantile(lognormal, QS, method="lower"))


@pytest.mark.benchmark(group="quantiles/update: 1M lognormal float64")
def test_quantiles_polars_native(benchmark, lognormal):
    """The native engines a user already has: Polars' quantiles of a column (exact, per quantile)."""
    pl = pytest.importorskip("polars")
    column = pl.Series(lognormal)
    benchmark(lambda: [column.quantile(q, interpolation="lower") for q in QS])


@pytest.mark.benchmark(group="quantiles/update: 1M lognormal float64")
def test_approx_quantile_duckdb_native(benchmark, lognormal):
    """DuckDB's `approx_quantile` (a t-digest) over the same column, read from the numpy array."""
    duckdb = pytest.importorskip("duckdb")
    pa = pytest.importorskip("pyarrow")
    con = duckdb.connect()
    con.register("frame", pa.table({"v": lognormal}))  # zero-copy, as DuckDB reads Arrow
    qs = ", ".join(str(q) for q in QS)
    benchmark(lambda: con.execute(f"SELECT approx_quantile(v, [{qs}]) FROM frame").fetchall())


# --- add: one value per call -----------------------------------------------------------------------


@pytest.mark.benchmark(group="quantiles/add: 100k calls, one float each")
def test_add_ddsketch_sketchy(benchmark, call_each, lognormal):
    values = lognormal[:CALLS].tolist()

    benchmark(lambda: call_each(DDSketch(0.01).add, values))


@pytest.mark.benchmark(group="quantiles/add: 100k calls, one float each")
def test_add_kll_sketchy(benchmark, call_each, lognormal):
    values = lognormal[:CALLS].tolist()

    benchmark(lambda: call_each(KLL(200).add, values))


@pytest.mark.benchmark(group="quantiles/add: 100k calls, one float each")
def test_add_kll_datasketches(benchmark, call_each, lognormal):
    values = lognormal[:CALLS].tolist()
    kll = datasketches().kll_doubles_sketch

    benchmark(lambda: call_each(kll(200).update, values))


@pytest.mark.benchmark(group="quantiles/add: 100k calls, one float each")
def test_add_ddsketch_package(benchmark, call_each, lognormal):
    ddsketch = pytest.importorskip("ddsketch")
    values = lognormal[:CALLS].tolist()

    benchmark(lambda: call_each(ddsketch.DDSketch(relative_accuracy=0.01).add, values))


@pytest.mark.benchmark(group="quantiles/add: 100k calls, one float each")
def test_add_tdigest_fastdigest(benchmark, call_each, lognormal):
    fastdigest = pytest.importorskip("fastdigest")
    values = lognormal[:CALLS].tolist()

    benchmark(lambda: call_each(fastdigest.TDigest().update, values))


# --- merge: 100 partitions -------------------------------------------------------------------------


def _partitions(values: np.ndarray) -> list[np.ndarray]:
    return np.array_split(values, PARTS)


def _merge_all(empty, parts, merge=lambda a, b: a.merge(b)):
    for part in parts:
        merge(empty, part)
    return empty


@pytest.mark.benchmark(group="quantiles/merge: 100 partitions of 10k values into one")
def test_merge_ddsketch_sketchy(benchmark, lognormal):
    parts = [_updated(DDSketch(0.01), chunk) for chunk in _partitions(lognormal)]
    merged = benchmark(lambda: _merge_all(DDSketch(0.01), parts))
    assert merged == _updated(DDSketch(0.01), lognormal)


@pytest.mark.benchmark(group="quantiles/merge: 100 partitions of 10k values into one")
def test_merge_kll_sketchy(benchmark, lognormal):
    parts = [_updated(KLL(200, seed=i), chunk) for i, chunk in enumerate(_partitions(lognormal))]
    merged = benchmark(lambda: _merge_all(KLL(200), parts))
    assert merged.count == len(lognormal)


@pytest.mark.benchmark(group="quantiles/merge: 100 partitions of 10k values into one")
def test_merge_kll_datasketches(benchmark, lognormal):
    kll = datasketches().kll_doubles_sketch
    parts = [_updated(kll(200), chunk) for chunk in _partitions(lognormal)]
    merged = benchmark(lambda: _merge_all(kll(200), parts))
    assert merged.n == len(lognormal)


@pytest.mark.benchmark(group="quantiles/merge: 100 partitions of 10k values into one")
def test_merge_ddsketch_package(benchmark, lognormal):
    ddsketch = pytest.importorskip("ddsketch")
    parts = []
    for chunk in _partitions(lognormal):
        part = ddsketch.DDSketch(relative_accuracy=0.01)
        for x in chunk.tolist():
            part.add(x)
        parts.append(part)
    merged = benchmark(lambda: _merge_all(ddsketch.DDSketch(relative_accuracy=0.01), parts))
    assert merged.count == len(lognormal)


@pytest.mark.benchmark(group="quantiles/merge: 100 partitions of 10k values into one")
def test_merge_tdigest_fastdigest(benchmark, lognormal):
    fastdigest = pytest.importorskip("fastdigest")
    parts = [fastdigest.TDigest.from_values(chunk) for chunk in _partitions(lognormal)]
    merged = benchmark(lambda: _merge_all(fastdigest.TDigest(), parts, lambda a, b: a.merge_inplace(b)))
    assert merged.n_values == len(lognormal)


# --- queries ---------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="quantiles/quantiles: 11 of a sketch of 1M values")
def test_quantiles_ddsketch_sketchy(benchmark, lognormal):
    sketch = _updated(DDSketch(0.01), lognormal)
    benchmark(lambda: sketch.quantiles(QS))


@pytest.mark.benchmark(group="quantiles/quantiles: 11 of a sketch of 1M values")
def test_quantiles_kll_sketchy(benchmark, lognormal):
    sketch = _updated(KLL(200), lognormal)
    benchmark(lambda: sketch.quantiles(QS))


@pytest.mark.benchmark(group="quantiles/quantiles: 11 of a sketch of 1M values")
def test_quantiles_kll_datasketches(benchmark, lognormal):
    sketch = _updated(datasketches().kll_doubles_sketch(200), lognormal)
    benchmark(lambda: sketch.get_quantiles(QS, True))


@pytest.mark.benchmark(group="quantiles/quantiles: 11 of a sketch of 1M values")
def test_quantiles_tdigest_fastdigest(benchmark, lognormal):
    fastdigest = pytest.importorskip("fastdigest")
    digest = fastdigest.TDigest.from_values(lognormal)
    benchmark(lambda: [digest.quantile(q) for q in QS])


# --- serialized sizes ------------------------------------------------------------------------------


def _report(benchmark, name: str, size: int) -> None:
    benchmark.extra_info["bytes"] = size
    print(f"\n{name}: {size} bytes")


@pytest.mark.benchmark(group="quantiles/to_bytes (sizes in extra_info)")
def test_size_ddsketch_latencies_1ms_to_1min(benchmark, latencies):
    sketch = _updated(DDSketch(0.01), latencies)
    data = benchmark(sketch.to_bytes)
    _report(benchmark, f"DDSketch(0.01), 1M latencies 1 ms..1 min, {sketch.num_bins} bins", len(data))
    assert len(data) <= 3000


@pytest.mark.benchmark(group="quantiles/to_bytes (sizes in extra_info)")
def test_size_kll_sketchy(benchmark, lognormal):
    sketch = _updated(KLL(200), lognormal)
    data = benchmark(sketch.to_bytes)
    _report(benchmark, f"KLL(200).to_bytes(), 1M values, {sketch.num_retained} retained", len(data))
    _report(benchmark, "KLL(200).to_datasketches(), 1M values", len(sketch.to_datasketches()))


@pytest.mark.benchmark(group="quantiles/to_bytes (sizes in extra_info)")
def test_size_kll_datasketches(benchmark, lognormal):
    sketch = _updated(datasketches().kll_doubles_sketch(200), lognormal)
    data = benchmark(sketch.serialize)
    _report(
        benchmark,
        f"datasketches kll_doubles_sketch(200), 1M values, {sketch.num_retained} retained",
        len(data),
    )


@pytest.mark.benchmark(group="quantiles/to_bytes (sizes in extra_info)")
def test_size_ddsketch_package(benchmark, latencies):
    """The ``ddsketch`` package's protobuf form needs ``protobuf``: skipped without it."""
    pytest.importorskip("google.protobuf")
    ddsketch = pytest.importorskip("ddsketch")
    from ddsketch.pb.proto import DDSketchProto

    sketch = ddsketch.DDSketch(relative_accuracy=0.01)
    for x in latencies[:100_000].tolist():
        sketch.add(x)
    data = benchmark(lambda: DDSketchProto.to_proto(sketch).SerializeToString())
    _report(benchmark, "ddsketch package DDSketch(0.01), 100k latencies, protobuf", len(data))


@pytest.mark.benchmark(group="quantiles/to_bytes (sizes in extra_info)")
def test_size_tdigest_fastdigest(benchmark, lognormal):
    fastdigest = pytest.importorskip("fastdigest")
    digest = fastdigest.TDigest.from_values(lognormal)
    data = benchmark(digest.to_bytes)
    _report(benchmark, f"fastdigest TDigest, 1M values, {digest.n_centroids} centroids", len(data))
