"""Sketches of Dask collections: one sketch per partition, then a tree of merges (``dask`` must be installed).

Every sketch in sketchy merges: the merge of the sketches of the parts of a stream is the sketch of
the whole stream (exactly for :class:`~sketchy.CountMinSketch` and :class:`~sketchy.DDSketch`,
register for register for :class:`~sketchy.HyperLogLog`, and for :class:`~sketchy.TopK` while fewer
than ``capacity`` distinct items were seen; a merge of :class:`~sketchy.KLL` sketches keeps their
rank error). So a sketch of a Dask collection needs no shuffle:

1. **map**: each partition (a chunk of a 1-D array, a partition of a DataFrame column, a partition of
   a bag) becomes one sketch, with one batch ``update`` on the worker that holds the data;
2. **reduce**: the sketches are merged ``split_every`` at a time, level by level (a tree reduction),
   so that no task receives more than ``split_every`` sketches, and the client receives one sketch.

Only sketches travel between the workers and the client: kilobytes, whatever the size of the data.
They travel with plain :mod:`pickle` (which goes through ``to_bytes``). The factory that makes the
empty sketches goes with the tasks and may be a lambda: Dask serializes tasks with cloudpickle.
Partitions are merged in order, so the result is the same whichever worker ran what. An error in a
task, such as a parameter mismatch between two partial sketches, reaches the client as the same
exception (``ValueError: cannot merge sketches with different seed: 1 != 2``).

Importing ``sketchy`` does not import Dask; importing ``sketchy.dask`` does.

Examples
--------
>>> import dask
>>> import dask.array as da
>>> import sketchy.dask
>>> users = da.arange(1_000_000, chunks=100_000) % 1_000  # 10 chunks, 1,000 distinct values
>>> with dask.config.set(scheduler="sync"):  # in this process; with a distributed.Client, on its workers
...     hll = sketchy.dask.hyperloglog(users, precision=12)
>>> round(hll.estimate())
1000

By hand, the same pattern is one Dask reduction: a function that sketches one partition and one that
merges a few sketches. Here on a DataFrame column; ``bag.reduction(partition_sketch, merge_all,
split_every=8)`` does the same for a bag, as does ``bag.map_partitions(lambda part:
[partition_sketch(list(part))]).fold(operator.or_, split_every=8)``; ``docs/scale_out/dask_recipe.py``
has these and a ``dask.delayed`` tree for any collection's partitions:

>>> import functools, operator
>>> import dask.dataframe as dd
>>> from sketchy import HyperLogLog
>>> def partition_sketch(values):  # runs on the workers, once per partition
...     sketch = HyperLogLog(12)
...     sketch.update(values)  # the pandas Series itself: one call, no Python loop
...     return sketch
>>> def merge_all(sketches):  # runs on the workers, on at most `split_every` sketches
...     return functools.reduce(operator.or_, sketches)
>>> column = dd.from_dask_array(users)
>>> total = column.reduction(
...     partition_sketch, aggregate=merge_all, combine=merge_all, split_every=8, meta=object
... )
>>> with dask.config.set(scheduler="sync"):
...     round(total.compute().estimate())
1000
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

try:
    import dask  # noqa: F401  (the error below, rather than one from the first dask import)
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("sketchy.dask needs Dask: pip install 'sketchy[dask]'") from err
from dask.base import tokenize
from dask.delayed import Delayed, delayed

from sketchy import KLL, CountMinSketch, DDSketch, HyperLogLog, TopK

__all__ = ["count_min", "ddsketch", "hyperloglog", "kll", "quantiles", "sketch", "top_k"]


class _Sketch(Protocol):
    def update(self, items: Any, /) -> None: ...
    def merge(self, other: Any, /) -> None: ...
    def copy(self) -> Any: ...


_S = TypeVar("_S", bound=_Sketch)

DEFAULT_SPLIT_EVERY = 8

# How the data of one partition is handed to `update`, by kind of collection.
_BAG, _ARRAY, _SERIES = "bag", "array", "series"


def _partition_sketch(make_sketch: Callable[[], _S], values: Any, kind: str) -> _S:
    """The sketch of one partition (runs on a worker)."""
    sketch = make_sketch()
    if kind == _BAG:
        sketch.update(values if isinstance(values, list) else list(values))  # a partition may be an iterator
        return sketch
    import numpy as np

    if kind == _ARRAY:
        values = np.asarray(values)
    sketch.update(values)  # a numpy array, or a pandas Series (or Index) as it is
    return sketch


def _merge_sketches(*sketches: _S) -> _S:
    """The merge of ``sketches``, in order (runs on a worker).

    The first sketch is copied, not merged into: a task's inputs belong to the scheduler, which may
    hand them to a rerun of the task (after a worker is lost) or keep them for another task.
    """
    merged: _S = sketches[0].copy()
    for other in sketches[1:]:
        merged.merge(other)
    return merged


def _partitions(collection: Any) -> tuple[list[Delayed], str]:
    """The partitions of ``collection`` as Delayed objects, and how to hand them to ``update``.

    Only the Dask modules the collection itself comes from are looked at, so that a bag does not
    import dask.dataframe (and pandas).
    """
    bag = sys.modules.get("dask.bag")
    if bag is not None and isinstance(collection, bag.Bag):
        return list(collection.to_delayed()), _BAG
    array = sys.modules.get("dask.array")
    if array is not None and isinstance(collection, array.Array):
        if collection.ndim != 1:
            raise ValueError(
                f"expected a 1-D dask array, got {collection.ndim} dimensions (shape {collection.shape}); "
                "use .ravel() to sketch every value"
            )
        return list(collection.to_delayed().ravel()), _ARRAY
    dataframe = sys.modules.get("dask.dataframe")
    if dataframe is not None:
        if isinstance(collection, (dataframe.Series, dataframe.Index)):
            return list(collection.to_delayed()), _SERIES
        if isinstance(collection, dataframe.DataFrame):
            raise TypeError(
                "expected one column of a dask DataFrame (a dask Series, e.g. df['user']), got a whole DataFrame"
            )
    raise TypeError(
        "expected a dask Bag, a dask Series (a DataFrame column) or a 1-D dask Array, "
        f"got {type(collection).__module__}.{type(collection).__qualname__}"
    )


def _check_split_every(split_every: int | None) -> int:
    if split_every is None:
        return DEFAULT_SPLIT_EVERY
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int >= 2, got {split_every!r}")
    return split_every


def _tree(parts: Sequence[Delayed], make_sketch: Callable[[], Any], kind: str, split_every: int) -> Delayed:
    token = tokenize(parts, make_sketch, kind, split_every)
    partition = delayed(_partition_sketch, pure=True)
    merge = delayed(_merge_sketches, pure=True)
    level: list[Delayed] = [
        partition(make_sketch, part, kind, dask_key_name=(f"sketch-partition-{token}", i))
        for i, part in enumerate(parts)
    ]
    depth = 0
    while len(level) > 1:
        depth += 1
        groups = [level[i : i + split_every] for i in range(0, len(level), split_every)]
        level = [
            group[0] if len(group) == 1 else merge(*group, dask_key_name=(f"sketch-merge-{token}", depth, j))
            for j, group in enumerate(groups)
        ]
    return level[0]


def sketch(
    collection: Any,
    make_sketch: Callable[[], _S],
    *,
    split_every: int | None = DEFAULT_SPLIT_EVERY,
    compute: bool = True,
) -> _S | Delayed:
    """The sketch of all the values of a Dask collection: one sketch per partition, merged in a tree.

    Parameters
    ----------
    collection : dask.bag.Bag, dask.dataframe.Series or dask.array.Array
        The values to sketch: a bag of items (each partition is made a list), one column of a dask
        DataFrame (each partition's pandas Series is passed to ``update`` as it is; a dask Index
        works too) or a 1-D dask array (each chunk as a numpy array). Items follow the rules of
        ``update``: str, bytes, int or float, and no missing values in string columns (use
        ``dropna()``); numbers only for :class:`~sketchy.DDSketch` and :class:`~sketchy.KLL`
        (which skip and count NaN).
    make_sketch : callable
        Called with no arguments, returns an empty sketch: anything with ``update``, ``merge`` and
        ``copy``, e.g. ``lambda: HyperLogLog(14)`` or ``functools.partial(CountMinSketch, 1024, 4)``.
        It is called once on the client (to check it, before anything is computed) and once per
        partition on the workers, so it must make sketches with the same parameters every time.
        It travels inside the tasks, serialized by Dask (cloudpickle: lambdas and closures are fine).
    split_every : int, default=8
        How many sketches one merge task receives at most (at least 2); ``None`` means 8. With
        ``n`` partitions the tree has ``ceil(log(n) / log(split_every))`` levels.
    compute : bool, default=True
        Compute now, with the current Dask scheduler (a ``distributed.Client`` when one is active),
        and return the sketch; ``False`` returns a :class:`dask.delayed.Delayed` to compute later
        (for instance with other results in one ``dask.compute`` call).

    Returns
    -------
    sketch or dask.delayed.Delayed
        The merge of the sketches of all the partitions, in partition order. Its contents are the
        same as a single-process ``update`` over the same values would give for
        :class:`~sketchy.CountMinSketch` (without ``conservative``) and :class:`~sketchy.DDSketch`
        (the same bins and bytes), the same registers (``==``) for :class:`~sketchy.HyperLogLog`, and
        the same summary for :class:`~sketchy.TopK` while fewer than ``capacity`` distinct items were
        seen (beyond that, its error bound still holds). A merged :class:`~sketchy.KLL` differs from
        a single pass but keeps its ``normalized_rank_error``; it is the same from run to run.

    Raises
    ------
    TypeError
        If ``collection`` is not one of the supported collections (a whole DataFrame included: pick
        a column), or ``make_sketch`` does not make a sketch.
    ValueError
        If the array is not 1-D or ``split_every`` is not an int >= 2; when computing, the
        ``ValueError`` of a merge of sketches with different parameters, raised on the client.

    Examples
    --------
    >>> import dask
    >>> import dask.bag as db
    >>> from sketchy import TopK
    >>> from sketchy.dask import sketch
    >>> words = db.from_sequence("to be or not to be that is the question".split(), npartitions=3)
    >>> top = sketch(words, lambda: TopK(2), compute=False)  # a Delayed: nothing runs yet
    >>> top.compute(scheduler="sync").most_common()
    [('to', 2), ('be', 2)]
    """
    if not callable(make_sketch):
        raise TypeError(f"make_sketch must be a callable returning an empty sketch, got {make_sketch!r}")
    probe = make_sketch()
    missing = [name for name in ("update", "merge", "copy") if not callable(getattr(probe, name, None))]
    if missing:
        raise TypeError(
            f"make_sketch must return a sketch (with update, merge and copy), got {type(probe).__name__} "
            f"without {', '.join(missing)}"
        )
    split_every = _check_split_every(split_every)
    parts, kind = _partitions(collection)
    result = _tree(parts, make_sketch, kind, split_every) if parts else delayed(make_sketch)()
    return result.compute() if compute else result


def hyperloglog(
    collection: Any,
    precision: int = 14,
    *,
    seed: int = 0,
    split_every: int | None = DEFAULT_SPLIT_EVERY,
    compute: bool = True,
) -> HyperLogLog | Delayed:
    """The :class:`~sketchy.HyperLogLog` of a Dask collection's values, one sketch per partition merged.

    ``sketch(collection, functools.partial(HyperLogLog, precision, seed=seed), ...)``: see
    :func:`sketch` for ``collection``, ``split_every`` and ``compute``. The result ``==`` the sketch
    of a single pass over the same values (same registers); being a merge, it estimates with Ertl's
    estimator (relative error ≈ 1.04/√m) once dense.

    Examples
    --------
    >>> import dask
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> from sketchy.dask import hyperloglog
    >>> df = dd.from_pandas(pd.DataFrame({"user": [f"user-{i % 500}" for i in range(10_000)]}), npartitions=4)
    >>> with dask.config.set(scheduler="sync"):
    ...     hll = hyperloglog(df["user"], precision=12)
    >>> round(hll.estimate())
    500
    """
    make = functools.partial(HyperLogLog, precision, seed=seed)
    return sketch(collection, make, split_every=split_every, compute=compute)


def count_min(
    collection: Any,
    width: int = 2048,
    depth: int = 5,
    *,
    seed: int = 0,
    conservative: bool = False,
    split_every: int | None = DEFAULT_SPLIT_EVERY,
    compute: bool = True,
) -> CountMinSketch | Delayed:
    """The :class:`~sketchy.CountMinSketch` of a Dask collection's values, one sketch per partition merged.

    ``sketch(collection, functools.partial(CountMinSketch, width, depth, seed=seed,
    conservative=conservative), ...)``: see :func:`sketch`. Without ``conservative`` the result is
    bit for bit the sketch of a single pass over the same values. With it, each partition is
    updated conservatively and the partial sketches are added, as any merge of conservative sketches:
    still never below the truth, but typically less tight than one conservative pass.

    Examples
    --------
    >>> import dask
    >>> import dask.bag as db
    >>> from sketchy.dask import count_min
    >>> fruit = db.from_sequence(["apple", "pear", "apple"] * 1000, npartitions=6)
    >>> with dask.config.set(scheduler="sync"):
    ...     cms = count_min(fruit, 1024, 4)
    >>> cms["apple"], cms["pear"], cms.total
    (2000, 1000, 3000)
    """
    make = functools.partial(CountMinSketch, width, depth, seed=seed, conservative=conservative)
    return sketch(collection, make, split_every=split_every, compute=compute)


def top_k(
    collection: Any,
    k: int,
    *,
    capacity: int | None = None,
    seed: int = 0,
    split_every: int | None = DEFAULT_SPLIT_EVERY,
    compute: bool = True,
) -> TopK | Delayed:
    """The :class:`~sketchy.TopK` of a Dask collection's values, one summary per partition merged.

    ``sketch(collection, functools.partial(TopK, k, capacity=capacity, seed=seed), ...)``: see
    :func:`sketch`. While fewer than ``capacity`` (default ``8 * k``) distinct items were seen, the
    result is the summary of a single pass; beyond that the counts are upper bounds and
    ``error_bound`` ≤ ``2 * total / (capacity + 1)`` holds through the merges.

    Examples
    --------
    >>> import dask
    >>> import dask.array as da
    >>> from sketchy.dask import top_k
    >>> rolls = da.arange(60, chunks=7) % 6 // 2  # 0, 0, 1, 1, 2, 2, 0, 0, ...
    >>> with dask.config.set(scheduler="sync"):
    ...     top = top_k(rolls, 2)
    >>> top.most_common()
    [(0, 20), (1, 20)]
    """
    make = functools.partial(TopK, k, capacity=capacity, seed=seed)
    return sketch(collection, make, split_every=split_every, compute=compute)


def ddsketch(
    collection: Any,
    relative_accuracy: float = 0.01,
    *,
    max_bins: int = 2048,
    split_every: int | None = DEFAULT_SPLIT_EVERY,
    compute: bool = True,
) -> DDSketch | Delayed:
    """The :class:`~sketchy.DDSketch` of a Dask collection's numbers, one sketch per partition merged.

    ``sketch(collection, functools.partial(DDSketch, relative_accuracy, max_bins=max_bins), ...)``:
    see :func:`sketch`. DDSketch merges are exact, so the result ``==`` the sketch of a single pass
    over the same values (the same bytes), and its quantiles are within ``relative_accuracy`` of the
    true ones.

    Examples
    --------
    >>> import dask
    >>> import dask.array as da
    >>> from sketchy.dask import ddsketch
    >>> latencies = da.arange(1, 100_001, chunks=10_000) / 1000  # 0.001 .. 100, 10 chunks
    >>> with dask.config.set(scheduler="sync"):
    ...     dd_sketch = ddsketch(latencies)
    >>> dd_sketch.count, abs(dd_sketch.quantile(0.99) / 99 - 1) <= 0.01
    (100000, True)
    """
    make = functools.partial(DDSketch, relative_accuracy, max_bins=max_bins)
    return sketch(collection, make, split_every=split_every, compute=compute)


def kll(
    collection: Any,
    k: int = 200,
    *,
    seed: int = 0,
    split_every: int | None = DEFAULT_SPLIT_EVERY,
    compute: bool = True,
) -> KLL | Delayed:
    """The :class:`~sketchy.KLL` sketch of a Dask collection's numbers, one sketch per partition merged.

    ``sketch(collection, functools.partial(KLL, k, seed=seed), ...)``: see :func:`sketch`. The merged
    sketch is not the sketch of a single pass (compactions happen elsewhere), but its ranks stay
    within ``normalized_rank_error`` of the truth, and it is the same from run to run.

    Examples
    --------
    >>> import dask
    >>> import dask.bag as db
    >>> from sketchy.dask import kll
    >>> sizes = db.range(100_000, npartitions=8)
    >>> with dask.config.set(scheduler="sync"):
    ...     sizes_kll = kll(sizes, 200)
    >>> sizes_kll.count, abs(sizes_kll.rank(50_000) - 0.5) <= sizes_kll.normalized_rank_error
    (100000, True)
    """
    make = functools.partial(KLL, k, seed=seed)
    return sketch(collection, make, split_every=split_every, compute=compute)


def _quantiles_of(sketch: Any, qs: Any) -> Any:
    """The answers of the merged sketch (runs on a worker): a float for one q, else an array."""
    return sketch.quantile(qs) if isinstance(qs, float) else sketch.quantiles(qs)


def quantiles(
    collection: Any,
    qs: Any,
    *,
    sketch: str | Callable[[], Any] | None = None,
    relative_accuracy: float = 0.01,
    max_bins: int = 2048,
    k: int = 200,
    seed: int = 0,
    split_every: int | None = DEFAULT_SPLIT_EVERY,
    compute: bool = True,
) -> Any:
    """Approximate quantiles of a Dask collection's numbers: a quantile sketch per partition, merged.

    Parameters
    ----------
    collection : dask.bag.Bag, dask.dataframe.Series or dask.array.Array
        The numbers (see :func:`sketch`); NaN values are skipped.
    qs : float or sequence of floats
        The quantiles, in [0, 1]: one (the answer is a float) or several (a numpy array). The answers
        approximate ``numpy.quantile(values, qs, method="lower")``.
    sketch : {"ddsketch", "kll"} or callable, default="ddsketch"
        ``"ddsketch"`` (``None``): answers within ``relative_accuracy`` of the true quantiles (in
        value), with ``max_bins``; ``"kll"``: answers within the ``normalized_rank_error`` of a
        ``KLL(k, seed=seed)`` in rank (about 1.3% for k=200). A callable returning an empty
        :class:`~sketchy.DDSketch` or :class:`~sketchy.KLL` is used as it is.
    split_every, compute
        As for :func:`sketch`: ``compute=False`` returns a :class:`dask.delayed.Delayed` of the answer.

    Raises
    ------
    ValueError
        If a q is outside [0, 1] or a parameter of the sketch is invalid (before anything is
        computed), or ``sketch`` is an unknown name.

    Examples
    --------
    >>> import dask
    >>> import dask.array as da
    >>> import numpy as np
    >>> import sketchy.dask
    >>> values = da.random.default_rng(0).lognormal(size=1_000_000, chunks=100_000)
    >>> with dask.config.set(scheduler="sync"):
    ...     estimates = sketchy.dask.quantiles(values, [0.5, 0.99, 0.999])
    ...     truth = np.quantile(values.compute(), [0.5, 0.99, 0.999], method="lower")
    >>> bool((abs(estimates / truth - 1) <= 0.01).all())
    True
    """
    if sketch is None or sketch == "ddsketch":
        make: Callable[[], Any] = functools.partial(DDSketch, relative_accuracy, max_bins=max_bins)
    elif sketch == "kll":
        make = functools.partial(KLL, k, seed=seed)
    elif callable(sketch):
        make = sketch
    else:
        raise ValueError(
            f"sketch must be 'ddsketch', 'kll' or a callable returning an empty sketch, got {sketch!r}"
        )
    probe = make()  # invalid parameters raise here, on the client
    if not isinstance(probe, (DDSketch, KLL)):
        raise TypeError(f"sketch must make a DDSketch or a KLL, got {type(probe).__name__}")
    if isinstance(qs, (int, float)) and not isinstance(qs, bool):
        qs = float(qs)
    _quantiles_of(probe, qs)  # a q outside [0, 1] raises here
    merged = _sketch_of(collection, make, split_every=split_every, compute=False)
    answer = delayed(_quantiles_of, pure=True)(merged, qs)
    return answer.compute() if compute else answer


_sketch_of = sketch  # `quantiles` has an argument named `sketch`
