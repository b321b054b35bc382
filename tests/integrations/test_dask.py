"""sketchy.dask on a real two-process Dask cluster: the merged sketch of a collection equals the
sketch of one pass over the same data, the work runs in the worker processes, sketches travel with
plain pickle, and errors inside the reduction reach the client.

The factories given to the cluster are lambdas, closures or ``functools.partial`` objects: Dask ships
those by value (cloudpickle), so the worker processes need not import this test module.
"""

from __future__ import annotations

import collections
import copy
import functools
import logging
import multiprocessing
import operator
import os
import pickle
import random
import subprocess
import sys
import uuid
import warnings

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import psutil  # noqa: E402
from dask.delayed import Delayed  # noqa: E402
from distributed.core import Status  # noqa: E402

import sketchy.dask  # noqa: E402
from sketchy import CountMinSketch, FeatureHasher, HyperLogLog, TopK  # noqa: E402

N = 160_000  # rows of each collection
CHUNKS = 16


# -- the cluster ---------------------------------------------------------------------------------------


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def cluster():
    local = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(local)
    pids = client.run(os.getpid)  # {worker address: pid}
    yield client, pids

    errors = _Errors()
    logger = logging.getLogger("distributed")
    logger.addHandler(errors)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client.close()
            local.close()
    finally:
        logger.removeHandler(errors)
    assert client.status == "closed"
    assert local.status == Status.closed
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in errors.records] == []
    for pid in pids.values():  # the worker processes are gone (or at most not yet reaped)
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.fixture
def client(cluster):
    return cluster[0]


# -- the data: generated inside the workers, 16 partitions each ------------------------------------------


def int_array(high: int, seed: int = 7) -> da.Array:
    return da.random.default_rng(seed).integers(0, high, size=N, chunks=N // CHUNKS)


def str_column(high: int) -> dd.Series:
    return "user-" + dd.from_dask_array(int_array(high, seed=11)).astype(str)


def str_bag(high: int) -> db.Bag:
    return db.range(N, npartitions=CHUNKS).map(lambda i: f"word-{(i * 7919) % high}")


COLLECTIONS = {"array": int_array, "dataframe": str_column, "bag": str_bag}

# kind: (factory shipped as a lambda, the wrapper of sketchy.dask with the same parameters, distinct items)
KINDS = {
    "hyperloglog": (
        lambda: HyperLogLog(12, seed=3),
        functools.partial(sketchy.dask.hyperloglog, precision=12, seed=3),
        50_000,  # dense at precision 12
    ),
    "hyperloglog-sparse": (
        lambda: HyperLogLog(14),
        functools.partial(sketchy.dask.hyperloglog, precision=14),
        300,
    ),
    "count_min": (
        lambda: CountMinSketch(512, 4, seed=9),
        functools.partial(sketchy.dask.count_min, width=512, depth=4, seed=9),
        5_000,
    ),
    "top_k": (
        lambda: TopK(10, seed=1),
        functools.partial(sketchy.dask.top_k, k=10, seed=1),
        50,  # fewer than capacity = 80 distinct items: merges are exact
    ),
}


def local_values(collection):
    """The same data, computed in this process (the synchronous scheduler): deterministic, so equal
    to what the workers see."""
    values = collection.compute(scheduler="sync")
    return list(values) if isinstance(values, tuple) else values


def assert_same_sketch(merged, local):
    assert type(merged) is type(local)
    assert merged == local
    if isinstance(local, (CountMinSketch, TopK)):
        assert merged.to_bytes() == local.to_bytes()
    if isinstance(local, HyperLogLog):
        assert merged.estimate() == pytest.approx(local.estimate(), rel=0.05)


# -- results equal a single pass ---------------------------------------------------------------------------


@pytest.mark.parametrize("collection_kind", COLLECTIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_merged_sketch_equals_single_pass(client, kind, collection_kind):
    make, wrapper, distinct = KINDS[kind]
    collection = COLLECTIONS[collection_kind](distinct)
    local = make()
    local.update(local_values(collection))
    if isinstance(local, HyperLogLog):
        assert local.is_sparse == (kind == "hyperloglog-sparse")  # both representations are covered

    assert_same_sketch(sketchy.dask.sketch(collection, make), local)
    assert_same_sketch(wrapper(collection), local)


def test_top_k_beyond_capacity_keeps_its_guarantees(client):
    values = da.random.default_rng(5).zipf(1.3, size=N, chunks=N // CHUNKS)
    top = sketchy.dask.top_k(values, 5, capacity=40)
    items, counts = np.unique(local_values(values), return_counts=True)
    truth = dict(zip(items.tolist(), counts.tolist(), strict=True))
    assert top.total == N
    assert top.error_bound <= 2 * N / (top.capacity + 1)
    heaviest = sorted(truth, key=truth.__getitem__, reverse=True)[:5]
    for item in heaviest:
        low, high = top.bounds(item)
        assert low <= truth[item] <= high
    assert top.most_common(1)[0][0] == heaviest[0]


def test_conservative_count_min_is_the_merge_of_the_partitions(client):
    values = int_array(2_000)
    merged = sketchy.dask.count_min(values, 256, 3, conservative=True)
    parts = []
    for chunk in values.to_delayed().ravel():
        part = CountMinSketch(256, 3, conservative=True)
        part.update(chunk.compute(scheduler="sync"))
        parts.append(part)
    assert merged.to_bytes() == functools.reduce(operator.add, parts).to_bytes()
    single = CountMinSketch(256, 3, conservative=True)
    single.update(local_values(values))
    truth = np.bincount(local_values(values), minlength=2_000)
    estimates = merged.estimate_many(np.arange(2_000))
    assert (estimates >= truth).all()  # never below the truth
    assert (estimates - truth).mean() > (single.estimate_many(np.arange(2_000)) - truth).mean()  # less tight


# -- the work runs in the worker processes ----------------------------------------------------------------


def recording(make, directory):
    """A factory that leaves one file per call, named by the pid of the process that called it."""

    def make_and_record():
        (directory / f"{os.getpid()}-{uuid.uuid4().hex}").touch()
        return make()

    return make_and_record


def test_partitions_are_sketched_in_both_worker_processes(cluster, tmp_path):
    client, worker_pids = cluster
    values = int_array(10_000)
    with distributed.get_task_stream(client) as stream:
        hll = sketchy.dask.sketch(values, recording(functools.partial(HyperLogLog, 12), tmp_path))

    calls = collections.Counter(int(path.name.split("-")[0]) for path in tmp_path.iterdir())
    assert calls.pop(os.getpid()) == 1  # make_sketch is checked once on the client
    assert set(calls) == set(worker_pids.values())  # both workers, nothing else
    assert sum(calls.values()) == CHUNKS  # one sketch per chunk
    assert os.getpid() not in worker_pids.values()

    sketch_tasks = [t for t in stream.data if str(t["key"]).startswith("('sketch-")]
    assert {
        pid for address, pid in worker_pids.items() if any(t["worker"] == address for t in sketch_tasks)
    } == (set(worker_pids.values()))
    assert (
        sum("sketch-merge" in str(t["key"]) for t in sketch_tasks) == 2 + 1
    )  # 16 -> 2 -> 1 with split_every=8
    assert abs(hll.estimate() / len(np.unique(local_values(values))) - 1) < 0.05


# -- errors inside the reduction reach the client ---------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: HyperLogLog(10, seed=random.randrange(2**32)),
        lambda: CountMinSketch(64, 2, seed=random.randrange(2**32)),
        lambda: TopK(3, seed=random.randrange(2**32)),
    ],
    ids=["hyperloglog", "count_min", "top_k"],
)
def test_parameter_mismatch_in_the_reduction_raises_on_the_client(client, make):
    with pytest.raises(ValueError, match="cannot merge sketches with different seed"):
        sketchy.dask.sketch(int_array(100), make)
    assert sketchy.dask.hyperloglog(int_array(100), 10).estimate() > 0  # the cluster is still fine


# -- plain pickle, also across a spawned process ----------------------------------------------------------


def filled_sketches():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 5_000, 20_000)
    sketches = [HyperLogLog(12), HyperLogLog(14, seed=2), CountMinSketch(256, 3, seed=4), TopK(5)]
    for s in sketches[1:]:
        s.update(values)
    sketches[0].update(["a", "b", "c"])  # a sparse HyperLogLog
    return sketches


def test_plain_pickle_round_trips_each_sketch_and_the_feature_hasher():
    for s in filled_sketches():
        for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(s, protocol=protocol))
            assert back == s
            assert back.to_bytes() == s.to_bytes()
    hasher = FeatureHasher(n_features=64, alternate_sign=False, seed=3)
    back = pickle.loads(pickle.dumps(hasher))
    row = {"city": "Paris", "temp": 21.5, "tags": ["a", "b"]}
    assert back.transform_one(row) == hasher.transform_one(row)
    assert (back.transform([row]) != hasher.transform([row])).nnz == 0


def test_sketches_cross_a_spawned_process_with_plain_pickle():
    sketches = filled_sketches()
    hasher = FeatureHasher(n_features=64, seed=3)
    row = {"city": "Paris", "temp": 21.5}
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.map(operator.methodcaller("to_bytes"), sketches) == [s.to_bytes() for s in sketches]
        assert pool.map(copy.deepcopy, sketches) == sketches  # there and back
        assert pool.apply(operator.methodcaller("transform_one", row), (hasher,)) == hasher.transform_one(row)


def test_sizeof_is_the_memory_of_the_sketch():
    hll = HyperLogLog(14)
    assert 0 < hll.__sizeof__() < 1024  # sparse and empty
    hll.update(np.arange(100_000))
    assert 2**14 <= hll.__sizeof__() < 2**14 + 4096  # one byte per register when dense
    cms = CountMinSketch(2048, 5)
    assert 2048 * 5 * 8 <= cms.__sizeof__() < 2048 * 5 * 8 + 4096  # 64-bit counters
    top = TopK(10)
    empty = top.__sizeof__()
    top.update(np.arange(100_000))
    assert 0 < empty < top.__sizeof__() < top.capacity * 256 + 4096  # bounded by the capacity
    for s in (hll, cms, top):
        assert sys.getsizeof(s) >= s.__sizeof__()
        back = pickle.loads(pickle.dumps(s)).__sizeof__()
        assert back == s.__sizeof__() if not isinstance(s, TopK) else 0 < back <= s.__sizeof__()  # no slack


# -- the API, without the cluster (synchronous scheduler) ---------------------------------------------------


@pytest.fixture
def sync():
    with dask.config.set(scheduler="sync"):
        yield


def test_split_every_and_compute_false(sync):
    values = da.arange(10_000, chunks=500) % 777  # 20 chunks
    local = CountMinSketch(128, 3)
    local.update(values.compute())
    for split_every in (2, 3, 8, 64, None):
        result = sketchy.dask.count_min(values, 128, 3, split_every=split_every, compute=False)
        assert isinstance(result, Delayed)
        assert result.compute().to_bytes() == local.to_bytes()
    hll, top = dask.compute(
        sketchy.dask.hyperloglog(values, compute=False), sketchy.dask.top_k(values, 3, compute=False)
    )
    assert round(hll.estimate()) == 777
    assert top.total == 10_000


def test_empty_partitions_and_one_partition(sync):
    frame = dd.from_pandas(pd.DataFrame({"x": np.arange(100)}), npartitions=4)
    assert len(sketchy.dask.hyperloglog(frame["x"][frame["x"] < 10])) == 10  # three empty partitions
    assert len(sketchy.dask.hyperloglog(frame.index)) == 100  # a dask Index works too
    assert len(sketchy.dask.hyperloglog(db.from_sequence(["a", "b", "a"], npartitions=1))) == 2
    assert sketchy.dask.count_min(da.zeros(0, dtype=int, chunks=10), 64, 2).total == 0


def unaligned(values: np.ndarray) -> np.ndarray:
    """``values`` at an odd address, as data deserialized from the network can be."""
    raw = np.zeros(values.nbytes + 1, dtype=np.uint8)
    out = raw[1:].view(values.dtype)
    out[:] = values
    assert not out.flags.aligned
    return out


def test_unaligned_partitions_are_sketched(sync):
    values = np.arange(10_000) % 1234
    array = da.from_array(unaligned(values), chunks=1000)
    local = CountMinSketch(256, 3)
    local.update(values)
    assert sketchy.dask.count_min(array, 256, 3).to_bytes() == local.to_bytes()

    strings = pd.Series([f"user-{v}" for v in values], dtype="str")
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(strings, protocol=5, buffer_callback=buffers.append)
    moved = pickle.loads(data, buffers=[memoryview(b"\0" + bytes(b.raw()))[1:] for b in buffers])
    local = TopK(5, capacity=2_000)
    local.update(strings)
    column = dd.from_pandas(moved, npartitions=4)
    assert sketchy.dask.top_k(column, 5, capacity=2_000).to_bytes() == local.to_bytes()


def test_bad_arguments_are_refused_before_computing(sync):
    frame = dd.from_pandas(pd.DataFrame({"x": [1, 2]}), npartitions=1)
    with pytest.raises(TypeError, match="one column of a dask DataFrame"):
        sketchy.dask.hyperloglog(frame)
    with pytest.raises(ValueError, match="1-D dask array"):
        sketchy.dask.hyperloglog(da.zeros((4, 4), chunks=2))
    with pytest.raises(TypeError, match="expected a dask Bag"):
        sketchy.dask.hyperloglog([1, 2, 3])
    with pytest.raises(ValueError, match="split_every"):
        sketchy.dask.hyperloglog(da.arange(10, chunks=5), split_every=1)
    with pytest.raises(TypeError, match="must return a sketch"):
        sketchy.dask.sketch(da.arange(10, chunks=5), list)
    with pytest.raises(ValueError):  # an invalid precision fails on the client, at once
        sketchy.dask.hyperloglog(da.arange(10, chunks=5), precision=40)


def test_importing_sketchy_does_not_import_dask():
    code = "import sys, sketchy; assert not any(m == 'dask' or m.startswith('dask.') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(sys.executable))
