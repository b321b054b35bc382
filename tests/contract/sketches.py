"""The tests' sketch registry: one entry per kind of sketch, which every contract suite runs on.

Every public sketch class of ``sketchy`` (a class with ``to_bytes`` or ``merge``) has at least one
entry (``test_registry.py`` fails otherwise), so that pickling, copies, merges refused by name,
all-or-nothing batches, memory sizes, bytes, threads, long lists, hostile bytes and the file reader
are checked for it without a line of its own. A new sketch joins with one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sketchy import KLL, CountMinSketch, DDSketch, HyperLogLog, TopK

# Items of every kind, a few hundred distinct: what the item sketches take.
ITEMS: list[Any] = [f"w{i % 700}" for i in range(3000)] + [b"raw", 2.5, -7, 2**64 - 1, 0.0, "zürich"]
# Numbers, for the sketches of numbers: lognormal floats of both signs, ints, zeros and NaN.
_rng = np.random.default_rng(7)
NUMBERS: list[Any] = [
    *(_rng.lognormal(0, 2, 2000) * np.where(_rng.random(2000) < 0.2, -1, 1)).tolist(),
    *_rng.integers(-500, 500, 1000).tolist(),
    0.0,
    -0.0,
    2.5,
    float("nan"),
    1e300,
]


def item_bytes(x: Any) -> int:
    return len(x.encode()) if isinstance(x, str) else len(x) if isinstance(x, bytes) else 8


def _same(sketch: Any) -> Any:
    return sketch


def topk_outcome(s: TopK) -> Any:
    # Exact while the distinct items fit: the counts are the same whatever the order of updates.
    return s.total, s.error_bound, sorted(s.most_common(len(s)), key=repr)


def kll_outcome(s: KLL) -> Any:
    # Compactions depend on the order of the items; the totals do not, and the weights add up.
    return s.count, s.nan_count, s.min, s.max, s.rank(s.max) if s.count else None


def union_estimate(s: HyperLogLog) -> Any:
    # HIP depends on the order the items came in; the union estimator reads only the registers.
    return s.precision, (s | s).estimate()


@dataclass(frozen=True)
class Entry:
    """How to build one kind of sketch and what the contract expects of it."""

    make: Callable[[], Any]
    # Sketches that differ from ``make()`` in exactly one parameter, with its name (a merge with
    # them is refused, naming it). Empty where every parameter merges (KLL: any k).
    mismatches: list[tuple[Callable[[], Any], str]]
    # A sketch of other parameters, never equal to ``make()``'s.
    other: Callable[[], Any]
    # The memory a sketch must at least report: the bytes its contents need.
    payload: Callable[[Any], int]
    # Takes numbers only (the quantile sketches): its items are ``NUMBERS``, a file's lines are read
    # as numbers, and ``counts`` are ``weights``.
    numbers: bool = False
    counts: bool = True  # update(items, counts) and add(item, count)
    # What must equal between a threaded (or chunked) run and the serial one (``==`` unless the
    # sketch depends on the order of the items).
    outcome: Callable[[Any], Any] = _same
    # What equals whatever the order of the items, past any capacity (a top-k summary's total).
    order_free: Callable[[Any], Any] | None = None
    # Bytes ``__sizeof__`` may report above 16 times the payload (tables sized up front).
    overhead: int = 4096
    # Other states to serialize, by name (the empty and the filled sketch are always checked).
    states: dict[str, Callable[[], Any]] = field(default_factory=dict)

    @property
    def cls(self) -> type:
        return type(self.make())

    def items(self) -> list[Any]:
        return NUMBERS if self.numbers else ITEMS

    def fresh(self, n: int) -> list[Any]:
        """``n`` items that ``items()`` does not hold."""
        return [1e6 + i for i in range(n)] if self.numbers else [f"new{i}" for i in range(n)]

    def filled(self) -> Any:
        sketch = self.make()
        sketch.update(self.items())
        return sketch

    def query(self, sketch: Any, item: Any) -> Any:
        """A read of the sketch, which must not disturb it."""
        if isinstance(sketch, HyperLogLog):
            return sketch.estimate()
        if isinstance(sketch, DDSketch | KLL):
            return sketch.quantile(0.5), sketch.rank(float(item))
        return sketch[item]

    def line(self, x: Any) -> str:
        """The item as a line of a file."""
        return repr(float(x)) if self.numbers else str(x)

    def of_line(self, line: str) -> Any:
        """What a line of a file adds, as ``update`` takes it."""
        return float(line) if self.numbers else line

    def update(self, sketch: Any, items: Any, counts: Any = None) -> None:
        if counts is None:
            sketch.update(items)
        elif self.numbers:
            sketch.update(items, weights=counts)
        else:
            sketch.update(items, counts=counts)

    def add(self, sketch: Any, item: Any, count: int | None = None) -> None:
        sketch.add(item) if count is None else sketch.add(item, count)


def _hll_payload(s: HyperLogLog) -> int:
    return 4 * round(s.estimate()) if s.is_sparse else 2**s.precision


def _merged(make: Callable[[], Any], numbers: bool = False) -> Callable[[], Any]:
    def build() -> Any:
        a, b = make(), make()
        a.update(NUMBERS[:1500] if numbers else ITEMS[:1500])
        b.update(NUMBERS[1500:] if numbers else ITEMS[1500:])
        a.merge(b)
        return a

    return build


SKETCHES: dict[str, Entry] = {
    "cms": Entry(
        make=lambda: CountMinSketch(width=300, depth=4, seed=3),
        mismatches=[
            (lambda: CountMinSketch(width=301, depth=4, seed=3), "width"),
            (lambda: CountMinSketch(width=300, depth=5, seed=3), "depth"),
            (lambda: CountMinSketch(width=300, depth=4, seed=4), "seed"),
            (lambda: CountMinSketch(width=300, depth=4, seed=3, conservative=True), "conservative"),
        ],
        other=lambda: CountMinSketch(width=301, depth=4, seed=3),
        payload=lambda s: s.width * s.depth * 8,
        states={"tiny": lambda: CountMinSketch(width=5, depth=1)},
    ),
    "cms-conservative": Entry(
        make=lambda: CountMinSketch(width=300, depth=4, conservative=True),
        mismatches=[(lambda: CountMinSketch(width=300, depth=4), "conservative")],
        other=lambda: CountMinSketch(width=300, depth=4),
        payload=lambda s: s.width * s.depth * 8,
        # Conservative counters depend on the order of updates; the total and the upper bounds do not.
        outcome=lambda s: (s.total, s.width),
    ),
    "hll-sparse": Entry(
        make=lambda: HyperLogLog(14, seed=1),
        mismatches=[
            (lambda: HyperLogLog(14, seed=2), "seed"),
            (lambda: HyperLogLog(14, hash="datasketches"), "hash"),
        ],
        other=lambda: HyperLogLog(13, seed=1),
        payload=_hll_payload,
        counts=False,
        states={"merged": lambda: _merged(lambda: HyperLogLog(8))() | HyperLogLog(9)},
    ),
    "hll-dense": Entry(
        make=lambda: HyperLogLog(6, seed=1),
        mismatches=[(lambda: HyperLogLog(6, seed=7), "seed")],
        other=lambda: HyperLogLog(7, seed=1),
        payload=lambda s: 2**s.precision,
        counts=False,
    ),
    "hll-datasketches": Entry(
        make=lambda: HyperLogLog(10, hash="datasketches"),
        mismatches=[(lambda: HyperLogLog(10), "hash")],
        other=lambda: HyperLogLog(11, hash="datasketches"),
        payload=lambda s: 4 * round(s.estimate()) if s.is_sparse else 2**s.precision,
        counts=False,
        outcome=union_estimate,
        states={
            "list": lambda: HyperLogLog(12, hash="datasketches"),
            "merged": _merged(lambda: HyperLogLog(10, hash="datasketches")),
        },
    ),
    "topk": Entry(
        make=lambda: TopK(5, capacity=4000, seed=2),
        mismatches=[
            (lambda: TopK(6, capacity=4000, seed=2), "k"),
            (lambda: TopK(5, capacity=4001, seed=2), "capacity"),
            (lambda: TopK(5, capacity=4000, seed=3), "seed"),
        ],
        other=lambda: TopK(6, capacity=4000, seed=2),
        # Each tracked item keeps at least its bytes and its count.
        payload=lambda s: sum(8 + item_bytes(x) for x, _ in s.most_common(len(s))),
        outcome=topk_outcome,
        order_free=lambda s: s.total,
        states={"past its capacity": lambda: _merged(lambda: TopK(3, capacity=16))()},
    ),
    "ddsketch": Entry(
        make=lambda: DDSketch(0.01),
        mismatches=[
            (lambda: DDSketch(0.02), "relative_accuracy"),
            (lambda: DDSketch(0.01, max_bins=1024), "max_bins"),
        ],
        other=lambda: DDSketch(0.02),
        payload=lambda s: 4 * s.num_bins,
        numbers=True,
        overhead=65536,
        states={"collapsed": _merged(lambda: DDSketch(0.05, max_bins=32), numbers=True)},
    ),
    "kll": Entry(
        make=lambda: KLL(200, seed=5),
        mismatches=[],
        other=lambda: KLL(100, seed=5),
        payload=lambda s: 8 * s.num_retained,
        numbers=True,
        outcome=kll_outcome,
        overhead=65536,
        states={"merged across k": lambda: _merged(lambda: KLL(64), numbers=True)() + KLL(16)},
    ),
}
