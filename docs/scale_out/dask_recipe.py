"""Sketch a Dask collection by hand: one sketch per partition, then a tree reduction.

Each partition becomes one HyperLogLog on the worker that holds it (a single batch ``update``); the
sketches, a few KiB each, are merged ``split_every`` at a time (a tree), and the client receives one
sketch. ``sketchy.dask.hyperloglog(collection)`` does all this in one call; this file shows the
pattern with Dask's own reductions, for a DataFrame column, a bag and any collection's partitions.

Run it with ``python docs/scale_out/dask_recipe.py`` (needs ``dask[distributed]``).
"""

from __future__ import annotations

import functools
import operator

import dask
import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import numpy as np
from distributed import Client, LocalCluster

import sketchy.dask
from sketchy import HyperLogLog

PRECISION = 14  # 2**14 registers: relative error about 0.8%
ROWS = 2_000_000
DISTINCT = 100_000
SPLIT_EVERY = 8


def partition_sketch(values):
    """The sketch of one partition: runs on a worker, once per partition."""
    sketch = HyperLogLog(PRECISION)
    sketch.update(values)  # a pandas Series, a numpy array or a list: one call, no Python loop
    return sketch


def merge_all(sketches):
    """The merge of a few sketches: runs on a worker, with at most SPLIT_EVERY sketches."""
    return functools.reduce(operator.or_, sketches)


def check(name: str, sketch: HyperLogLog, truth: int) -> None:
    error = sketch.estimate() / truth - 1
    print(f"{name:<28} estimate {sketch.estimate():>12,.0f}   truth {truth:>9,}   error {error:+.2%}")
    assert abs(error) < 0.05, f"{name}: {error:+.2%} off"


def main() -> None:
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        # 2,000,000 random ints in 16 chunks, generated on the workers.
        values = da.random.default_rng(42).integers(0, 4 * DISTINCT, size=ROWS, chunks=ROWS // 16)
        truth = len(np.unique(values.compute()))

        # 1. A DataFrame column: Series.reduction, with the same function for combine and aggregate.
        column = dd.from_dask_array(values, columns="user_id")
        by_column = column.reduction(
            partition_sketch, aggregate=merge_all, combine=merge_all, split_every=SPLIT_EVERY, meta=object
        ).compute()
        check("DataFrame column reduction", by_column, truth)

        # 2. A bag: map_partitions to one sketch per partition, then fold (a tree of `|`).
        words = db.range(ROWS, npartitions=16).map(lambda i: f"user-{(i * 7919) % DISTINCT}")
        by_bag = (
            words.map_partitions(lambda part: [partition_sketch(list(part))])
            .fold(operator.or_, split_every=SPLIT_EVERY)
            .compute()
        )
        check("bag map_partitions + fold", by_bag, DISTINCT)  # 7919 is prime: every residue occurs

        # 3. Any collection, with dask.delayed: the partitions of a 1-D array, merged level by level.
        level = [dask.delayed(partition_sketch)(chunk) for chunk in values.to_delayed().ravel()]
        while len(level) > 1:
            level = [
                dask.delayed(merge_all)(level[i : i + SPLIT_EVERY]) for i in range(0, len(level), SPLIT_EVERY)
            ]
        by_delayed = level[0].compute()
        check("array delayed tree", by_delayed, truth)

        # The same data gives the same sketch, whichever way it was cut and merged.
        assert by_column == by_delayed == sketchy.dask.hyperloglog(values, PRECISION)


if __name__ == "__main__":
    main()
