"""Quantile sketches of Dask collections (``sketchy.dask.ddsketch``, ``kll``, ``quantiles`` and the
generic ``sketch``) on a real two-process cluster: a merged DDSketch equals the sketch of one pass
(the same bytes), a merged KLL keeps its rank error, and the answers are within their guarantees of
numpy's exact (lower) quantiles."""

from __future__ import annotations

import functools
import math
import os
import random

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from dask.delayed import Delayed  # noqa: E402

import sketchy.dask  # noqa: E402
from sketchy import KLL, DDSketch  # noqa: E402

N = 160_000
CHUNKS = 16
QS = [0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0]


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def sync():
    with dask.config.set(scheduler="sync"):
        yield


# -- the data: generated inside the workers, 16 partitions each ------------------------------------------


def float_array(seed: int = 7) -> da.Array:
    return da.random.default_rng(seed).lognormal(0, 2, size=N, chunks=N // CHUNKS)


def signed_column() -> dd.Series:
    """Negative, zero, positive values and NaN (skipped and counted) in a DataFrame column."""
    values = da.random.default_rng(11).normal(0, 100, size=N, chunks=N // CHUNKS).round(1)
    return dd.from_dask_array(da.where(values > 250, np.nan, values))


def int_bag() -> db.Bag:
    return db.range(N, npartitions=CHUNKS).map(lambda i: (i * 7919) % 100_003 - 50_000)


COLLECTIONS = {"array": float_array, "dataframe": signed_column, "bag": int_bag}


def local_values(collection) -> np.ndarray:
    values = collection.compute(scheduler="sync")
    return np.asarray(list(values) if isinstance(values, tuple) else values, dtype=np.float64)


def lower(values: np.ndarray, qs) -> np.ndarray:
    values = values[~np.isnan(values)]
    return np.quantile(values, qs, method="lower")


def within_alpha(estimates, truths, alpha: float = 0.01) -> bool:
    estimates, truths = np.asarray(estimates), np.asarray(truths)
    return bool((np.abs(estimates - truths) <= alpha * np.abs(truths) + 1e-12).all())


def rank_errors(values: np.ndarray, qs, answers) -> np.ndarray:
    ordered = np.sort(values[~np.isnan(values)])
    below = np.searchsorted(ordered, answers, "left") / len(ordered)
    upto = np.searchsorted(ordered, answers, "right") / len(ordered)
    return np.maximum(np.maximum(below - np.asarray(qs), np.asarray(qs) - upto), 0.0)


# -- results equal a single pass (DDSketch) and keep their guarantees ------------------------------------


@pytest.mark.parametrize("collection_kind", COLLECTIONS)
def test_merged_ddsketch_equals_single_pass(client, collection_kind):
    collection = COLLECTIONS[collection_kind]()
    values = local_values(collection)
    local = DDSketch(0.01)
    local.update(values)

    for merged in (
        sketchy.dask.sketch(collection, lambda: DDSketch(0.01)),
        sketchy.dask.ddsketch(collection, 0.01),
        sketchy.dask.ddsketch(collection, split_every=2),
    ):
        assert type(merged) is DDSketch
        assert merged == local
        assert merged.to_bytes() == local.to_bytes()
    assert merged.count == np.count_nonzero(~np.isnan(values))
    assert merged.nan_count == np.count_nonzero(np.isnan(values))
    assert merged.min == np.nanmin(values) and merged.max == np.nanmax(values)

    estimates = sketchy.dask.quantiles(collection, QS)
    assert isinstance(estimates, np.ndarray) and estimates.dtype == np.float64
    assert np.array_equal(estimates, local.quantiles(QS))
    assert within_alpha(estimates, lower(values, QS))


@pytest.mark.parametrize("collection_kind", COLLECTIONS)
def test_merged_kll_keeps_its_rank_error(client, collection_kind):
    collection = COLLECTIONS[collection_kind]()
    values = local_values(collection)
    merged = sketchy.dask.kll(collection, 200, seed=5)
    assert type(merged) is KLL and (merged.k, merged.seed) == (200, 5)
    assert merged.count + merged.nan_count == len(values)
    assert merged.min == np.nanmin(values) and merged.max == np.nanmax(values)
    assert merged == sketchy.dask.sketch(collection, functools.partial(KLL, 200, seed=5))  # run to run
    estimates = sketchy.dask.quantiles(collection, QS, sketch="kll", k=200, seed=5)
    assert np.array_equal(estimates, merged.quantiles(QS))
    assert rank_errors(values, QS, estimates).max() <= merged.normalized_rank_error


def test_quantiles_with_a_finer_relative_accuracy(client):
    collection = float_array(seed=3)
    values = local_values(collection)
    estimates = sketchy.dask.quantiles(collection, QS, relative_accuracy=0.001, max_bins=8192)
    assert within_alpha(estimates, lower(values, QS), alpha=0.001)
    local = DDSketch(0.001, max_bins=8192)
    local.update(values)
    assert sketchy.dask.ddsketch(collection, 0.001, max_bins=8192) == local


def test_the_sketches_are_made_in_the_workers(client, tmp_path):
    def make_and_record():
        (tmp_path / f"{os.getpid()}-{np.random.default_rng().integers(1 << 60)}").touch()
        return DDSketch()

    sketchy.dask.quantiles(float_array(), [0.5], sketch=make_and_record)
    pids = {int(p.name.split("-")[0]) for p in tmp_path.iterdir()}
    assert pids - {os.getpid()} == set(client.run(os.getpid).values())


def test_a_parameter_mismatch_in_the_reduction_raises_on_the_client(client):
    with pytest.raises(ValueError, match="cannot merge sketches with different relative_accuracy"):
        sketchy.dask.quantiles(
            da.arange(100.0, chunks=10), 0.5, sketch=lambda: DDSketch(random.uniform(0.01, 0.02))
        )
    assert sketchy.dask.quantiles(da.arange(100.0, chunks=10), 0.5) == pytest.approx(49, rel=0.01)


# -- the API, without the cluster (synchronous scheduler) ---------------------------------------------------


def test_one_q_is_a_float_and_compute_false_is_a_delayed(sync):
    values = da.arange(1, 10_001, chunks=1_000) / 10
    median = sketchy.dask.quantiles(values, 0.5)
    assert isinstance(median, float) and median == pytest.approx(500, rel=0.01)
    assert isinstance(sketchy.dask.quantiles(values, np.float64(0.5)), float)
    assert sketchy.dask.quantiles(values, 1) == 1000.0
    lazy = sketchy.dask.quantiles(values, [0.1, 0.9], compute=False)
    assert isinstance(lazy, Delayed)
    (both,) = dask.compute(lazy)
    assert both.tolist() == pytest.approx([100, 900], rel=0.01)
    assert isinstance(sketchy.dask.ddsketch(values, compute=False), Delayed)
    assert isinstance(sketchy.dask.kll(values, compute=False), Delayed)


def test_empty_collections_and_partitions(sync):
    frame = dd.from_pandas(pd.DataFrame({"x": np.arange(100.0)}), npartitions=4)
    few = frame["x"][frame["x"] < 10]  # three empty partitions
    assert sketchy.dask.quantiles(few, [0, 1]).tolist() == [0.0, 9.0]
    assert sketchy.dask.ddsketch(few).count == 10
    assert sketchy.dask.kll(few) == sketchy.dask.kll(few)
    empty = sketchy.dask.quantiles(da.zeros(0, chunks=10), [0.5, 0.9])
    assert empty.shape == (2,) and np.isnan(empty).all()
    assert math.isnan(sketchy.dask.quantiles(db.from_sequence([], npartitions=1), 0.5, sketch="kll"))


def test_bad_arguments_are_refused_before_computing(sync):
    values = da.arange(10.0, chunks=5)
    with pytest.raises(ValueError, match="must be in"):
        sketchy.dask.quantiles(values, [0.5, 1.5])
    with pytest.raises(ValueError, match="must be in"):
        sketchy.dask.quantiles(values, -0.1, sketch="kll")
    with pytest.raises(ValueError, match="sketch must be 'ddsketch', 'kll'"):
        sketchy.dask.quantiles(values, 0.5, sketch="tdigest")
    with pytest.raises(TypeError, match="must make a DDSketch or a KLL"):
        sketchy.dask.quantiles(values, 0.5, sketch=lambda: sketchy.HyperLogLog())
    with pytest.raises(ValueError, match="relative_accuracy"):
        sketchy.dask.quantiles(values, 0.5, relative_accuracy=1.5)
    with pytest.raises(ValueError):
        sketchy.dask.kll(values, k=1)
    with pytest.raises(TypeError, match="one column of a dask DataFrame"):
        sketchy.dask.quantiles(dd.from_pandas(pd.DataFrame({"x": [1.0]}), npartitions=1), 0.5)
    with pytest.raises(TypeError):  # strings are not numbers
        sketchy.dask.ddsketch(db.from_sequence(["a", "b"], npartitions=1))
