"""DDSketch and KLL: the API, properties, accuracy over seeded trials, and a reference implementation.

Both answer ``quantile(q)`` as an approximation of ``numpy.quantile(x, q, method="lower")``: the order
statistic at 0-based index ``floor(q * (n - 1))``. A DDSketch answer is within ``relative_accuracy``
of it (relative error in value); a KLL answer is within ``normalized_rank_error`` of it in rank (the
distance from ``q`` to the interval ``[frac(< v), frac(<= v)]`` of the returned value ``v``), 99% of
the time. The DataSketches image format of KLL is tested in ``test_quantile_images.py``.
"""

from __future__ import annotations

import itertools
import math
import pickle
import struct
import threading
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sketchy import KLL, DDSketch

ALPHA = 0.01
QS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999]
KLL_200_ERROR = 0.013294757464848584  # 2.296 / 200**0.9723, DataSketches' single-sided 99% bound
NUMERIC_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
NUMERIC_DTYPES += ["float16", "float32", "float64"]


def lower(sorted_values: np.ndarray, q):
    """``numpy.quantile(x, q, method="lower")`` on already sorted values (q a float or an array)."""
    index = np.floor((len(sorted_values) - 1) * np.asarray(q, dtype=np.float64)).astype(np.intp)
    return sorted_values[index]


def relative_misses(estimates, truths, alpha=ALPHA):
    """The indexes where ``|est - true| > alpha * |true| + 1e-12``."""
    estimates, truths = np.asarray(estimates, dtype=np.float64), np.asarray(truths, dtype=np.float64)
    return np.flatnonzero(~(np.abs(estimates - truths) <= alpha * np.abs(truths) + 1e-12))


def rank_errors(sorted_values: np.ndarray, qs, answers) -> np.ndarray:
    """The distance from each q to the rank interval [frac(< v), frac(<= v)] of its answer v."""
    n = len(sorted_values)
    qs = np.asarray(qs, dtype=np.float64)
    below = np.searchsorted(sorted_values, answers, "left") / n
    upto = np.searchsorted(sorted_values, answers, "right") / n
    return np.maximum(np.maximum(below - qs, qs - upto), 0.0)


def exact_sum(values, weights=None) -> float:
    weights = [1] * len(values) if weights is None else weights
    return float(sum((Fraction(float(x)) * int(w) for x, w in zip(values, weights, strict=True)), Fraction()))


def signed_mixture(rng: np.random.Generator, n: int) -> np.ndarray:
    """30% negative lognormal(1, 1.5), 10% zeros, 60% lognormal(0, 2)."""
    kind = rng.choice(3, n, p=[0.3, 0.1, 0.6])
    return np.where(kind == 0, -rng.lognormal(1, 1.5, n), np.where(kind == 1, 0.0, rng.lognormal(0, 2, n)))


DISTRIBUTIONS = {
    "lognormal": lambda rng, n: rng.lognormal(0, 2, n),
    "pareto": lambda rng, n: rng.pareto(1.2, n) + 1,
    "uniform": lambda rng, n: rng.uniform(0, 100, n),
    "mixture": signed_mixture,
    # 90% one value, the rest spread around it (and an all-equal stream in trial 0).
    "equal": lambda rng, n: np.where(rng.random(n) < 0.9, 3.25, rng.lognormal(1, 1, n)),
}

MAKE = {"ddsketch": lambda: DDSketch(0.01), "kll": lambda: KLL(200, seed=5)}
DATA = signed_mixture(np.random.default_rng(3), 5000)


def filled(kind: str):
    sketch = MAKE[kind]()
    sketch.update(DATA)
    return sketch


@pytest.fixture(params=MAKE)
def kind(request) -> str:
    return request.param


def same(a: float, b: float) -> bool:
    """Equal as float64 bit patterns (NaN equals NaN, -0.0 differs from 0.0)."""
    return struct.pack("<d", a) == struct.pack("<d", b)


# --- parameters and the empty sketch ---------------------------------------------------------------


def test_parameters_and_defaults():
    dd = DDSketch()
    assert dd.relative_accuracy == 0.01 and dd.max_bins == 2048 and dd.num_bins == 0
    assert (
        DDSketch(0.05, max_bins=100).relative_accuracy == 0.05
        and DDSketch(0.05, max_bins=100).max_bins == 100
    )
    kll = KLL()
    assert kll.k == 200 and kll.min_k == 200 and kll.seed == 0 and kll.num_retained == 0
    assert kll.normalized_rank_error == pytest.approx(KLL_200_ERROR, rel=1e-12)
    assert KLL(8, seed=9).seed == 9 and KLL(65535).k == 65535
    for k in (8, 100, 1000):
        assert KLL(k).normalized_rank_error == pytest.approx(2.296 / k**0.9723, rel=1e-12)
    with pytest.raises(TypeError):
        DDSketch(0.01, 100)  # max_bins is keyword-only
    with pytest.raises(TypeError):
        KLL(200, 1)  # seed is keyword-only


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: DDSketch(0.0), "relative_accuracy"),
        (lambda: DDSketch(1.0), "relative_accuracy"),
        (lambda: DDSketch(-0.01), "relative_accuracy"),
        (lambda: DDSketch(1.5), "relative_accuracy"),
        (lambda: DDSketch(float("nan")), "relative_accuracy"),
        # Found by the fuzzer: an accuracy so small that gamma rounds to 1 (its log to 0) once slipped
        # past the key-width check through an integer overflow.
        (lambda: DDSketch(1e-12), "relative_accuracy"),
        (lambda: DDSketch(1e-300), "relative_accuracy"),
        (lambda: DDSketch(5e-324), "relative_accuracy"),
        (lambda: DDSketch(0.01, max_bins=0), "max_bins"),
        (lambda: DDSketch(0.01, max_bins=-1), "max_bins"),
        (lambda: KLL(7), r"\bk\b"),
        (lambda: KLL(0), r"\bk\b"),
        (lambda: KLL(65536), r"\bk\b"),
    ],
)
def test_bad_parameters(make, match):
    with pytest.raises((ValueError, OverflowError), match=match):
        make()


def test_an_empty_sketch_answers_nan(kind):
    sketch = MAKE[kind]()
    assert sketch.count == 0 and sketch.nan_count == 0
    assert math.isnan(sketch.quantile(0.5)) and math.isnan(sketch.quantile(0.0))
    got = sketch.quantiles([0.0, 0.5, 1.0])
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (3,)
    assert np.isnan(got).all()
    assert math.isnan(sketch.min) and math.isnan(sketch.max)
    assert math.isnan(sketch.rank(1.0))
    assert np.isnan(sketch.cdf([0.0, 1.0])).all()
    if kind == "ddsketch":
        assert math.isnan(sketch.mean) and sketch.sum == 0
    assert type(sketch).from_bytes(sketch.to_bytes()) == sketch
    # NaN only: still empty, but counted.
    sketch.update([float("nan")] * 3)
    assert sketch.count == 0 and sketch.nan_count == 3 and math.isnan(sketch.quantile(0.5))


@pytest.mark.parametrize("q", [-0.01, 1.01, -1e-300, 1 + 2**-52, float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("empty", [False, True])
def test_q_outside_0_1_is_refused_by_name(kind, q, empty):
    sketch = MAKE[kind]() if empty else filled(kind)
    with pytest.raises(ValueError, match=r"\bq\b"):
        sketch.quantile(q)
    with pytest.raises(ValueError, match=r"\bq\b"):
        sketch.quantiles([0.5, q])
    with pytest.raises(ValueError, match=r"\bq\b"):
        sketch.quantiles(np.array([q, 0.5]))


# --- small exact answers ---------------------------------------------------------------------------


def test_ddsketch_summary_statistics_are_exact():
    values = [0.1, 0.2, 0.3, -1e16, 1e16, 7, 0.0, -0.0, 2.5e-310]
    sketch = DDSketch()
    sketch.update(values)
    assert sketch.count == 9 and isinstance(sketch.count, int)
    assert sketch.sum == exact_sum(values) == math.fsum(values)  # not 7.6000000000000005 nor 0.0
    assert sketch.mean == pytest.approx(sketch.sum / 9, rel=1e-15)
    assert sketch.min == -1e16 and sketch.max == 1e16
    hundred = DDSketch()
    hundred.update(range(1, 101))
    assert hundred.count == 100 and hundred.sum == 5050 and hundred.mean == 50.5
    assert hundred.min == 1 and hundred.max == 100
    for q in (0, 0.25, 0.5, 0.99, 1):
        truth = lower(np.arange(1.0, 101.0), q)
        assert abs(hundred.quantile(q) - truth) <= ALPHA * truth, q
    assert 0 < hundred.num_bins <= 2048


def test_ddsketch_sum_and_count_with_weights_are_exact():
    values = [0.1, 1e300, -1e300, 3.0, 1 / 3, -(2.0**-1074)]
    weights = [3, 7, 7, 2**40, 11, 5]
    sketch = DDSketch()
    sketch.update(values, weights)
    assert sketch.count == sum(weights)
    assert sketch.sum == exact_sum(values, weights)
    one_by_one = DDSketch()
    for x, w in zip(values, weights, strict=True):
        one_by_one.add(x, w)
    assert one_by_one == sketch and one_by_one.to_bytes() == sketch.to_bytes()


def test_kll_is_exact_until_k_items():
    values = np.random.default_rng(1).normal(size=200)
    values[:20] = 0.5  # ties
    sketch = KLL(200)
    sketch.update(values)
    ordered = np.sort(values)
    qs = np.linspace(0, 1, 1001)
    assert np.array_equal(sketch.quantiles(qs), np.quantile(values, qs, method="lower"))
    assert sketch.num_retained == 200 and sketch.count == 200
    for x in [*values[:30], -10.0, 10.0, 0.5]:
        assert sketch.rank(x) == np.searchsorted(ordered, x, "right") / 200
    assert sketch.min == ordered[0] and sketch.max == ordered[-1]


def test_quantiles_and_cdf_are_quantile_and_rank_for_each(kind):
    sketch = filled(kind)
    qs = [0.0, 0.001, 0.3, 0.5, 0.5, 0.999, 1.0]
    for batch in (qs, np.array(qs), tuple(qs)):
        got = sketch.quantiles(batch)
        assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (7,)
        assert got.tolist() == [sketch.quantile(q) for q in qs]
    assert sketch.quantiles([]).shape == (0,)
    xs = [-1e9, sketch.min, -1.0, 0.0, 0.5, 3.0, sketch.max, 1e9]
    cdf = sketch.cdf(xs)
    assert isinstance(cdf, np.ndarray) and cdf.dtype == np.float64
    assert cdf.tolist() == [sketch.rank(x) for x in xs]
    assert sketch.cdf(np.array(xs)).tolist() == cdf.tolist()
    assert isinstance(sketch.quantile(0.5), float) and isinstance(sketch.rank(0.5), float)
    assert isinstance(sketch.quantile(np.float64(0.5)), float)
    assert sketch.rank(-1e9) == 0.0 and sketch.rank(sketch.max) == 1.0 and sketch.rank(1e9) == 1.0
    assert np.all(np.diff(cdf) >= 0)
    ends = sketch.quantiles([0.0, 1.0])
    if kind == "ddsketch":
        assert (
            abs(ends[0] - sketch.min) <= ALPHA * abs(sketch.min)
            and abs(ends[1] - sketch.max) <= ALPHA * sketch.max
        )
    else:  # the smallest and largest retained items
        assert sketch.min <= ends[0] <= ends[1] <= sketch.max


# --- NaN, infinities, weights, types ---------------------------------------------------------------


def test_nan_is_skipped_and_counted(kind):
    sketch = MAKE[kind]()
    sketch.add(float("nan"))
    sketch.add(-float("nan"))
    sketch.update([1.0, float("nan"), 2.0])
    sketch.update(np.array([np.nan, 3.0, np.nan], dtype=np.float32))
    sketch.add(float("nan"), 5)
    assert sketch.nan_count in (6, 10)  # a weighted NaN counts once or by its weight
    assert sketch.count == 3 and sketch.min == 1.0 and sketch.max == 3.0
    plain = MAKE[kind]()
    plain.update([1.0, 2.0, 3.0])
    assert sketch.quantiles(QS).tolist() == plain.quantiles(QS).tolist()
    assert type(sketch).from_bytes(sketch.to_bytes()).nan_count == sketch.nan_count
    merged = plain + sketch
    assert merged.nan_count == sketch.nan_count and merged.count == 6
    sketch.clear()
    assert sketch.nan_count == 0


@pytest.mark.parametrize(
    "bad",
    [
        lambda s: s.add(float("inf")),
        lambda s: s.add(-float("inf"), 2),
        lambda s: s.update([1.0, 2.0, float("inf")]),
        lambda s: s.update(np.array([-np.inf, 1.0])),
        lambda s: s.update(np.concatenate([np.arange(100_000.0), [np.inf]])),
    ],
)
def test_ddsketch_refuses_infinities_and_changes_nothing(bad):
    sketch = filled("ddsketch")
    before = sketch.to_bytes()
    with pytest.raises(ValueError):
        bad(sketch)
    assert sketch.to_bytes() == before


def test_kll_takes_infinities_as_values():
    sketch = KLL(200)
    sketch.update([1.0, float("inf"), -float("inf"), 2.0])
    sketch.add(float("inf"))
    assert sketch.count == 5 and sketch.min == -math.inf and sketch.max == math.inf
    assert sketch.quantile(0) == -math.inf and sketch.quantile(1) == math.inf and sketch.quantile(0.5) == 2.0
    assert sketch.rank(math.inf) == 1.0 and sketch.rank(-math.inf) == 0.2 and sketch.rank(1.5) == 0.4


def test_negative_zero_is_one_value_whatever_the_input_path(kind):
    """-0.0 added alone, in a list or in an array: the same sketch (sketchy keeps every zero as 0.0)."""
    paths = {
        "add": lambda s: s.add(-0.0),
        "list": lambda s: s.update([-0.0]),
        "array": lambda s: s.update(np.array([-0.0])),
        "float32 array": lambda s: s.update(np.array([-0.0], dtype=np.float32)),
        "zero": lambda s: s.add(0.0),
    }
    images = {}
    for name, path in paths.items():
        sketch = MAKE[kind]()
        sketch.add(1.0)
        path(sketch)
        images[name] = sketch.to_bytes()
        assert sketch.min == 0.0 and sketch.quantile(0) == 0.0 and sketch.rank(0.0) == 0.5, name
    assert len(set(images.values())) == 1, images
    both = MAKE[kind]()
    both.update([-0.0, 0.0])
    assert same(both.min, both.max)


def test_ddsketch_weights_equal_repeats():
    rng = np.random.default_rng(2)
    values = signed_mixture(rng, 500)
    weights = rng.integers(1, 20, 500)
    weighted, repeated, added = DDSketch(), DDSketch(), DDSketch()
    weighted.update(values, weights)
    repeated.update(np.repeat(values, weights))
    for x, w in zip(values.tolist(), weights.tolist(), strict=True):
        added.add(x, w)
    assert weighted == repeated == added
    assert weighted.count == int(weights.sum())
    listed = DDSketch()
    listed.update(values.tolist(), weights.tolist())
    assert listed == weighted
    zero = filled("ddsketch")
    zero.update([5.0, 6.0], [0, 0])
    zero.add(7.0, 0)
    assert zero.count == filled("ddsketch").count


def test_kll_weights():
    rng = np.random.default_rng(4)
    values = rng.permutation(np.arange(1000.0))
    weights = rng.integers(1, 50, 1000)
    sketch = KLL(200, seed=1)
    sketch.update(values, weights)
    assert sketch.count == int(weights.sum()) and sketch.min == 0 and sketch.max == 999
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    probes = np.arange(0.0, 1000.0, 37)
    truth = cumulative[probes.astype(int)]
    assert np.abs(sketch.cdf(probes) - truth).max() <= sketch.normalized_rank_error
    heavy = KLL(200)
    heavy.update(np.arange(1000.0))
    heavy.add(5000.0, 10**12)
    assert heavy.count == 10**12 + 1000 and heavy.quantile(0.5) == 5000.0 and heavy.max == 5000.0
    a, b = KLL(8, seed=3), KLL(8, seed=3)
    a.update([1.0, 2.0, 3.0], [2, 0, 3])
    b.update(np.array([1.0, 2.0, 3.0]), np.array([2, 0, 3], dtype=np.uint8))
    assert a == b and a.count == 5


BAD_WEIGHTS = {
    "add negative": lambda s: s.add(1.0, -1),
    "add float": lambda s: s.add(1.0, 1.5),
    "add huge": lambda s: s.add(1.0, 2**64),
    "add str": lambda s: s.add(1.0, "2"),
    "short": lambda s: s.update([1.0, 2.0, 3.0], [1, 1]),
    "long": lambda s: s.update(np.arange(3.0), np.ones(4, dtype=np.int64)),
    "negative": lambda s: s.update([1.0, 2.0], [1, -1]),
    "negative array": lambda s: s.update(np.arange(1000.0), np.full(1000, -2, dtype=np.int64)),
    "float": lambda s: s.update([1.0, 2.0], [1, 2.5]),
    "huge": lambda s: s.update([1.0, 2.0], [1, 2**70]),
    "str": lambda s: s.update([1.0, 2.0], ["1", "2"]),
    "total past 2**64 - 1": lambda s: s.update(
        np.array([1.0, 2.0]), np.array([2**63, 2**63], dtype=np.uint64)
    ),
    "add past 2**64 - 1": lambda s: s.add(1.0, 2**64 - 1),
}


@pytest.mark.parametrize("bad", BAD_WEIGHTS)
def test_bad_weights_name_weights_and_change_nothing(kind, bad):
    sketch = filled(kind)
    before = sketch.to_bytes()
    with pytest.raises((ValueError, TypeError, OverflowError), match="weight"):
        BAD_WEIGHTS[bad](sketch)
    assert sketch.to_bytes() == before


BAD_ITEMS = {
    "str": lambda s: s.add("1.5"),
    "None": lambda s: s.add(None),
    "bytes": lambda s: s.add(b"1"),
    "str batch": lambda s: s.update("123"),
    "str in list": lambda s: s.update([1.0, 2.0, "3"]),
    "str last in a long list": lambda s: s.update([*range(100_000), "x"]),
    "None in list": lambda s: s.update([1.0, None]),
    "str array": lambda s: s.update(np.array(["1", "2"])),
    "object array": lambda s: s.update(np.array([1.0, "a"], dtype=object)),
    "string Series": lambda s: s.update(pytest.importorskip("pandas").Series(["a", "b"])),
    "string Arrow array": lambda s: s.update(pytest.importorskip("pyarrow").array(["a", "b"])),
}


@pytest.mark.parametrize("bad", BAD_ITEMS)
def test_non_numeric_items_are_refused_and_change_nothing(kind, bad):
    sketch = filled(kind)
    before = sketch.to_bytes()
    with pytest.raises(TypeError):
        BAD_ITEMS[bad](sketch)
    assert sketch.to_bytes() == before


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_every_numpy_dtype_equals_its_values_as_floats(kind, dtype):
    rng = np.random.default_rng(len(dtype))
    if np.dtype(dtype).kind == "f":
        values = (rng.normal(0, 100, 3000)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, 3000, dtype=dtype, endpoint=True)
        values[:2] = [info.min, info.max]
    expected = MAKE[kind]()
    expected.update([float(v) for v in values.tolist()])
    for batch in (values, values.tolist(), values[::-1][::-1], np.ascontiguousarray(values)):
        sketch = MAKE[kind]()
        sketch.update(batch)
        assert sketch == expected
    strided = MAKE[kind]()
    strided.update(np.repeat(values, 2)[::2])
    assert strided == expected


def test_columns_of_pandas_pyarrow_and_polars(kind):
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    floats = np.random.default_rng(5).lognormal(0, 1, 4000)
    ints = np.random.default_rng(6).integers(-1000, 1000, 4000)
    for values in (floats, ints, floats.astype(np.float32)):
        expected = MAKE[kind]()
        expected.update(values.astype(np.float64).tolist())
        columns = [
            pd.Series(values),
            pa.array(values),
            pa.chunked_array([values[:1000], values[1000:]]),
            pl.Series(values),
        ]
        for column in columns:
            sketch = MAKE[kind]()
            sketch.update(column)
            assert sketch == expected, type(column)
    with_nan = MAKE[kind]()
    with_nan.update(pd.Series([1.0, np.nan, 2.0]))
    assert with_nan.count == 2 and with_nan.nan_count == 1


def test_an_int_beyond_the_float_range_is_refused_as_too_large(kind):
    sketch = filled(kind)
    before = sketch.to_bytes()
    sketch.add(2**100)  # rounded to the nearest float, as float() does
    assert sketch.max == float(2**100)
    sketch = filled(kind)
    for bad in (lambda: sketch.add(2**1100), lambda: sketch.update([1.0, -(2**1100)])):
        with pytest.raises((OverflowError, ValueError)):  # as float(2**1100): not a TypeError
            bad()
        assert sketch.to_bytes() == before


def test_ints_and_floats_are_the_same_values(kind):
    a, b = MAKE[kind](), MAKE[kind]()
    a.add(3)
    a.update([1, 2, -7])
    b.add(3.0)
    b.update([1.0, 2.0, -7.0])
    assert a == b


# --- merging, copies, bytes ------------------------------------------------------------------------


def test_ddsketch_merge_equals_one_pass_in_any_order():
    rng = np.random.default_rng(7)
    values = np.concatenate([signed_mixture(rng, 30_000), [1e-300, 1e300, -5e-324, 0.1, 0.2, 0.3]])
    whole = DDSketch()
    whole.update(values)
    parts = [DDSketch() for _ in range(7)]
    owner = rng.integers(0, 7, len(values))
    for i, part in enumerate(parts):
        part.update(values[owner == i])
    for order in (range(7), reversed(range(7)), rng.permutation(7)):
        merged = DDSketch()
        for i in order:
            merged.merge(parts[i])
        assert merged == whole and merged.to_bytes() == whole.to_bytes()
    total = parts[0] + parts[1]
    for part in parts[2:]:
        total = total + part
    assert total == whole and total.sum == whole.sum
    assert parts[0] != whole  # `+` left its operands alone
    itself = whole.copy()
    itself.merge(itself)
    doubled = DDSketch()
    doubled.update(values, np.full(len(values), 2))
    assert itself == doubled


def test_ddsketch_merge_of_different_relative_accuracy_is_refused():
    a, b = filled("ddsketch"), DDSketch(0.02)
    b.update([1.0, 2.0])
    before = a.to_bytes()
    with pytest.raises(ValueError, match="relative_accuracy"):
        a.merge(b)
    with pytest.raises(ValueError, match="relative_accuracy"):
        a + b
    assert a.to_bytes() == before
    with pytest.raises(TypeError):
        a.merge(KLL())
    with pytest.raises(TypeError):
        KLL().merge(a)


def test_kll_merge():
    rng = np.random.default_rng(8)
    values = rng.normal(size=100_000)
    parts = [KLL(200, seed=i) for i in range(10)]
    for part, chunk in zip(parts, np.array_split(values, 10), strict=True):
        part.update(chunk)
    merged = KLL(200, seed=99)
    for part in parts:
        merged.merge(part)
    assert merged.count == 100_000 and merged.min == values.min() and merged.max == values.max()
    ordered = np.sort(values)
    qs = np.linspace(0.005, 0.995, 100)
    assert rank_errors(ordered, qs, merged.quantiles(qs)).max() <= merged.normalized_rank_error
    again = KLL(200, seed=99)
    for part in parts:
        again.merge(part)
    assert again.to_bytes() == merged.to_bytes()  # deterministic
    total = parts[0] + parts[1]
    assert total.count == 20_000 and parts[0].count == 10_000 and parts[1].count == 10_000
    itself = parts[2].copy()
    itself.merge(itself)
    assert itself.count == 20_000 and itself.min == parts[2].min and itself.max == parts[2].max


def test_kll_merges_across_k():
    rng = np.random.default_rng(9)
    a, b = KLL(200), KLL(100)
    a.update(rng.normal(size=10_000))
    b.update(rng.normal(size=10_000))
    merged = a + b
    assert merged.k == 200 and merged.min_k == 100 and merged.count == 20_000
    assert merged.normalized_rank_error == pytest.approx(2.296 / 100**0.9723, rel=1e-12)
    other_way = b + a
    assert other_way.k == 100 and other_way.min_k == 100 and other_way.count == 20_000
    a.merge(b)
    assert a.min_k == 100


def test_a_cleared_sketch_keeps_its_parameters_and_answers_nan(kind):
    # Copies, clearing, equality, bytes and pickling are the contract suite's (tests/contract).
    sketch = filled(kind)
    sketch.clear()
    assert sketch.count == 0 and math.isnan(sketch.quantile(0.5))
    if kind == "kll":
        assert sketch.k == 200 and sketch.seed == 5 and sketch.num_retained == 0
    else:
        assert sketch.relative_accuracy == 0.01 and sketch.num_bins == 0
    other = (KLL if kind == "ddsketch" else DDSketch)().to_bytes()
    with pytest.raises(ValueError):
        type(sketch).from_bytes(other)


def test_restored_kll_sketches_continue_like_the_original():
    """A copy, a pickle or a bytes round trip compacts the next items exactly as the original does."""
    rng = np.random.default_rng(10)
    first, later = rng.normal(size=7777), rng.normal(size=20_000)
    original = KLL(64, seed=17)
    original.update(first)
    restored = [original.copy(), pickle.loads(pickle.dumps(original)), KLL.from_bytes(original.to_bytes())]
    original.update(later)
    for sketch in restored:
        sketch.update(later)
        assert sketch == original and sketch.to_bytes() == original.to_bytes()


def test_same_seed_same_bytes_and_different_seeds_differ():
    values = np.random.default_rng(11).lognormal(0, 1, 20_000)
    images = []
    for seed in range(10):
        a, b = KLL(200, seed=seed), KLL(200, seed=seed)
        a.update(values)
        for chunk in np.array_split(values, 13):
            b.update(chunk)
        assert a.to_bytes() == b.to_bytes() and a == b
        images.append(a.to_bytes())
    assert len(set(images)) >= 9
    assert KLL(200, seed=1) == KLL(200, seed=1)


def test_repr(kind):
    sketch = filled(kind)
    if kind == "kll":
        assert repr(sketch).startswith("KLL(") and "k=200" in repr(sketch) and "seed=5" in repr(sketch)
    else:
        assert repr(sketch).startswith("DDSketch(") and "relative_accuracy=0.01" in repr(sketch)


def test_ddsketch_keeps_at_most_max_bins():
    values = np.random.default_rng(15).permutation(10 ** np.linspace(-6, 6, 100_000))
    sketch = DDSketch(0.01, max_bins=64)
    sketch.update(values)
    assert 0 < sketch.num_bins <= 64 and sketch.count == 100_000
    assert sketch.min == 1e-6 and sketch.max == 1e6
    got = sketch.quantiles(np.linspace(0, 1, 201))
    assert np.all(np.diff(got) >= 0)
    # Collapsing gives up one end of the range; the other end stays within the relative accuracy.
    ordered = np.sort(values)
    ends = [0.0, 0.0005, 0.9995, 1.0]
    misses = relative_misses(sketch.quantiles(ends), lower(ordered, ends))
    assert set(misses) <= {0, 1} or set(misses) <= {2, 3}, misses
    # Merging sketches that collapsed still equals the one pass.
    parts = [DDSketch(0.01, max_bins=64) for _ in range(3)]
    for i, part in enumerate(parts):
        part.update(values[i::3])
    merged = parts[2] + parts[0] + parts[1]
    assert merged == sketch and merged.to_bytes() == sketch.to_bytes()


# --- files -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def number_file(tmp_path_factory):
    rng = np.random.default_rng(12)
    values = signed_mixture(rng, 400_000)
    lines = [repr(float(x)) for x in values.tolist()] + ["42", "-7", "1e-3", "nan"]
    path = tmp_path_factory.mktemp("quantiles") / "numbers.txt"
    path.write_text("\n".join(lines) + "\n")
    return path, [float(line) for line in lines]


def test_a_kll_read_from_a_file_in_chunks_keeps_its_rank_error(number_file):
    # That update_from equals update is the contract suite's; a KLL of a file merges one sketch per
    # chunk, in file order, whose error must still be the sketch's.
    path, numbers = number_file
    sketch = MAKE["kll"]()
    sketch.update_from(path)
    assert sketch.count == len(numbers) - 1 and sketch.nan_count == 1
    ordered = np.sort([x for x in numbers if not math.isnan(x)])
    qs = np.linspace(0.01, 0.99, 99)
    assert rank_errors(ordered, qs, sketch.quantiles(qs)).max() <= sketch.normalized_rank_error


def test_update_from_a_small_file(kind, tmp_path):
    path = tmp_path / "few.txt"
    path.write_text("1.5\n-2\n3e2\n0")  # no newline at the end
    sketch, expected = MAKE[kind](), MAKE[kind]()
    sketch.update_from(path)
    expected.update([1.5, -2.0, 300.0, 0.0])
    assert sketch == expected


# --- threads ---------------------------------------------------------------------------------------

THREADS = 8


def run_threads(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "deadlock"


def thread_operations(t: int):
    rng = np.random.default_rng(100 + t)
    for _ in range(5):
        yield "update", signed_mixture(rng, 3000)
        yield "update", signed_mixture(rng, 200).tolist()
        for x in signed_mixture(rng, 30).tolist():
            yield "add", x
        yield "update", np.array([np.nan, 1.0])
        yield "merge", t


def thread_parts(kind: str):
    parts = []
    for t in range(THREADS):
        part = MAKE[kind]()
        part.update(signed_mixture(np.random.default_rng(200 + t), 500))
        parts.append(part)
    return parts


def thread_work(sketch, t: int, parts) -> None:
    for op, arg in thread_operations(t):
        if op == "update":
            sketch.update(arg)
        elif op == "add":
            sketch.add(arg)
        else:
            sketch.merge(parts[arg])
            sketch.to_bytes()
            pickle.dumps(sketch)
            sketch.copy()
            repr(sketch)
            sketch.quantiles(QS)
            sketch.rank(1.0)


def all_thread_values() -> np.ndarray:
    chunks = []
    for t in range(THREADS):
        for op, arg in thread_operations(t):
            if op == "update":
                chunks.append(np.asarray(arg, dtype=np.float64))
            elif op == "add":
                chunks.append(np.array([arg]))
            else:
                chunks.append(signed_mixture(np.random.default_rng(200 + arg), 500))
    values = np.concatenate(chunks)
    return values[~np.isnan(values)]


def test_a_kll_built_by_threads_is_sound_and_accurate():
    # That threads lose nothing is the contract suite's; a KLL built by them depends on the order of
    # the calls, and must still weigh every value and keep its rank error.
    parts = thread_parts("kll")
    shared = MAKE["kll"]()
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def run(t: int) -> None:
        try:
            barrier.wait()
            thread_work(shared, t, parts)
        except BaseException as e:  # reported below
            errors.append(e)

    run_threads([threading.Thread(target=run, args=(t,)) for t in range(THREADS)])
    assert errors == []
    assert shared.rank(shared.max) == 1.0  # the weights add up to the count
    assert KLL.from_bytes(shared.to_bytes()) == shared
    assert KLL.from_datasketches(shared.to_datasketches()).count == shared.count
    ordered = np.sort(all_thread_values())
    assert len(ordered) == shared.count
    qs = np.linspace(0.01, 0.99, 99)
    assert rank_errors(ordered, qs, shared.quantiles(qs)).max() <= 2 * shared.normalized_rank_error


# --- properties ------------------------------------------------------------------------------------

# Magnitudes within six decades (and zeros): fewer bins than max_bins=2048, whichever sign they have.
moderate = st.one_of(st.just(0.0), st.floats(1e-3, 1e3), st.floats(-1e3, -1e-3))
finite = st.floats(allow_nan=False, allow_infinity=False)
probabilities = st.lists(st.floats(0, 1), min_size=1, max_size=20)


@settings(max_examples=300)
@given(values=st.lists(moderate, min_size=1, max_size=300), qs=probabilities)
def test_ddsketch_is_within_alpha_of_the_lower_quantile(values, qs):
    sketch = DDSketch(0.01)
    sketch.update(values)
    ordered = np.sort(values)
    estimates = sketch.quantiles(qs)
    assert len(relative_misses(estimates, lower(ordered, qs))) == 0, (estimates, lower(ordered, qs))
    assert sketch.min == ordered[0] and sketch.max == ordered[-1] and sketch.count == len(values)


@settings(max_examples=200)
@given(values=st.lists(finite, min_size=1, max_size=60), qs=probabilities)
def test_ddsketch_is_within_alpha_over_the_whole_float_range(values, qs):
    """With room for every bin (2**18 of them), any finite doubles, subnormals and the largest too."""
    sketch = DDSketch(0.01, max_bins=1 << 18)
    sketch.update(values)
    ordered = np.sort(values)
    estimates = sketch.quantiles(qs)
    assert len(relative_misses(estimates, lower(ordered, qs))) == 0, (estimates, lower(ordered, qs))
    assert np.isfinite(estimates).all()


@settings(max_examples=200)
@given(
    values=st.lists(finite.filter(lambda x: abs(x) < 1e300), min_size=1, max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=5),
    order=st.randoms(use_true_random=False),
)
def test_ddsketch_merge_of_any_split_is_the_one_pass(values, cuts, order):
    whole = DDSketch(0.01)
    whole.update(values)
    bounds = sorted({0, len(values), *(c for c in cuts if c <= len(values))})
    parts = []
    for start, end in itertools.pairwise(bounds):
        part = DDSketch(0.01)
        part.update(values[start:end])
        parts.append(part)
    order.shuffle(parts)
    merged = DDSketch(0.01)
    for part in parts:
        merged.merge(part)
    assert merged == whole and merged.to_bytes() == whole.to_bytes()
    assert whole.sum == exact_sum(values) and whole.count == len(values)


@settings(max_examples=200)
@given(
    kind=st.sampled_from(["ddsketch", "kll8", "kll200"]),
    values=st.lists(moderate, min_size=1, max_size=400),
    qs=probabilities,
)
def test_quantiles_are_monotone_and_consistent_with_rank(kind, values, qs):
    sketch = DDSketch(0.01) if kind == "ddsketch" else KLL(8 if kind == "kll8" else 200, seed=len(values))
    sketch.update(values)
    n = len(values)
    ordered = np.sort(values)
    qs = sorted(qs)
    answers = sketch.quantiles(qs)
    assert np.all(np.diff(answers) >= 0), answers
    for q, v in zip(qs, answers.tolist(), strict=True):
        # The sketch's own rank of its answer reaches q (up to the 1/n of the lower order statistic).
        assert sketch.rank(v) >= q - 1 / n - 1e-12, (q, v, sketch.rank(v))
        if kind == "ddsketch":
            assert (
                ordered[0] - ALPHA * abs(ordered[0]) - 1e-12
                <= v
                <= ordered[-1] + ALPHA * abs(ordered[-1]) + 1e-12
            )
            # Fewer than q of the values lie clearly (beyond the bin width) below the answer.
            assert np.count_nonzero(ordered < v - 2.1 * ALPHA * abs(v)) / n <= q + 1e-12
        else:
            assert ordered[0] <= v <= ordered[-1]
            # The weight of the retained items below the answer is at most q.
            assert sketch.rank(np.nextafter(v, -math.inf)) <= q + 1e-12
            error = 0.0 if n <= sketch.k else 2 * sketch.normalized_rank_error
            assert rank_errors(ordered, [q], [v])[0] <= error + 1 / n + 1e-12
    for x in ordered[:: max(1, n // 20)].tolist():
        truth = np.count_nonzero(ordered <= x) / n
        if kind == "ddsketch":
            width = 2.1 * ALPHA * abs(x)
            low, high = np.count_nonzero(ordered <= x - width) / n, np.count_nonzero(ordered <= x + width) / n
            assert low - 1e-12 <= sketch.rank(x) <= high + 1e-12
        else:
            error = 0.0 if n <= sketch.k else 2 * sketch.normalized_rank_error
            assert abs(sketch.rank(x) - truth) <= error + 1e-12


@settings(max_examples=150)
@given(
    values=st.lists(
        st.one_of(finite, st.sampled_from([math.inf, -math.inf, -0.0])), min_size=1, max_size=200
    ),
    k=st.sampled_from([8, 50, 200]),
    seed=st.integers(0, 2**32),
)
def test_kll_exact_mode_and_determinism(values, k, seed):
    a, b = KLL(k, seed=seed), KLL(k, seed=seed)
    a.update(values)
    for x in values:
        b.add(x)
    assert a == b and a.to_bytes() == b.to_bytes()
    assert a.count == len(values) and a.min == min(values) and a.max == max(values)
    if len(values) <= k:
        qs = np.linspace(0, 1, 41)
        assert np.array_equal(a.quantiles(qs), np.quantile(values, qs, method="lower"))
        assert a.num_retained == len(values)
        assert a.rank(values[0]) == sum(x <= values[0] for x in values) / len(values)
    else:
        assert a.num_retained < len(values)


# --- accuracy --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_ddsketch_accuracy_over_100_trials(distribution):
    misses = []
    for trial in range(100):
        rng = np.random.default_rng([1, trial, list(DISTRIBUTIONS).index(distribution)])
        values = DISTRIBUTIONS[distribution](rng, 20_000)
        if distribution == "equal" and trial == 0:
            values = np.full(20_000, 3.25)
        sketch = DDSketch(0.01)
        sketch.update(values)
        truths = lower(np.sort(values), QS)
        estimates = sketch.quantiles(QS)
        misses += [(trial, QS[i], estimates[i], truths[i]) for i in relative_misses(estimates, truths)]
        # A random split merged in a random order: the same sketch.
        owner = rng.integers(0, rng.integers(2, 9), len(values))
        parts = [DDSketch(0.01) for _ in range(owner.max() + 1)]
        for i, part in enumerate(parts):
            part.update(values[owner == i])
        merged = DDSketch(0.01)
        for i in rng.permutation(len(parts)):
            merged.merge(parts[i])
        assert merged == sketch, trial
        assert merged.quantiles(QS).tolist() == estimates.tolist()
        assert sketch.min == values.min() and sketch.max == values.max() and sketch.count == 20_000
    assert misses == [], misses[:10]


def test_ddsketch_and_the_ddsketch_package_are_both_within_alpha():
    ddsketch = pytest.importorskip("ddsketch")
    for name, make in DISTRIBUTIONS.items():
        for seed in range(3):
            values = make(np.random.default_rng([2, seed]), 5000)
            ours, reference = DDSketch(0.01), ddsketch.DDSketch(relative_accuracy=0.01)
            ours.update(values)
            for x in values.tolist():
                reference.add(x)
            truths = lower(np.sort(values), QS)
            theirs = [reference.get_quantile_value(q) for q in QS]
            assert len(relative_misses(theirs, truths, ALPHA * (1 + 1e-9))) == 0, (name, "reference")
            assert len(relative_misses(ours.quantiles(QS), truths)) == 0, (name, ours.quantiles(QS), truths)
            assert ours.count == reference.count and ours.sum == pytest.approx(reference.sum, rel=1e-12)


def kll_trial_errors(sketch, ordered: np.ndarray, qs: np.ndarray, probes: np.ndarray) -> tuple[float, float]:
    """The largest rank error of 100 quantiles, and of the ranks of 100 values."""
    quantile_error = rank_errors(ordered, qs, sketch.quantiles(qs)).max()
    truth = np.searchsorted(ordered, probes, "right") / len(ordered)
    return quantile_error, np.abs(sketch.cdf(probes) - truth).max()


@pytest.mark.slow
def test_kll_rank_error_over_1000_trials():
    qs = (np.arange(100) + 0.5) / 100
    epsilon = KLL(200).normalized_rank_error
    over = np.zeros(2, dtype=int)
    worst = np.zeros(2)
    for trial in range(1000):
        values = np.random.default_rng([3, trial]).lognormal(0, 2, 20_000)
        sketch = KLL(200, seed=trial)
        sketch.update(values)
        ordered = np.sort(values)
        errors = np.array(kll_trial_errors(sketch, ordered, qs, ordered[::200]))
        over += errors > epsilon
        worst = np.maximum(worst, errors)
        assert sketch.count == 20_000 and sketch.min == ordered[0] and sketch.max == ordered[-1]
    assert (over <= 10).all(), (over, worst, epsilon)  # >= 99% of the trials within the bound


@pytest.mark.slow
def test_kll_rank_error_after_merges_over_200_trials():
    qs = (np.arange(100) + 0.5) / 100
    over = np.zeros(2, dtype=int)
    for trial in range(200):
        rng = np.random.default_rng([4, trial])
        values = rng.normal(size=20_000)
        owner = rng.integers(0, 10, 20_000)
        merged = KLL(200, seed=trial)
        for part in range(10):
            piece = KLL(200, seed=1000 * trial + part)
            piece.update(values[owner == part])
            merged.merge(piece)
        ordered = np.sort(values)
        assert merged.count == 20_000
        over += np.array(kll_trial_errors(merged, ordered, qs, ordered[::200])) > merged.normalized_rank_error
    assert (over <= 2).all(), over


# --- sizes -----------------------------------------------------------------------------------------


def test_ddsketch_of_latencies_from_1ms_to_1min_is_small():
    rng = np.random.default_rng(13)
    seconds = np.clip(rng.lognormal(np.log(0.2), 2.0, 1_000_000), 0.001, 60.0)
    sketch = DDSketch(0.01)
    sketch.update(seconds)
    assert 500 <= sketch.num_bins <= 600  # log(60 000) / log(1.0202): every bin in use
    assert len(sketch.to_bytes()) <= 3000, len(sketch.to_bytes())


def test_kll_bytes_are_about_the_size_of_the_datasketches_image():
    datasketches = pytest.importorskip("datasketches")
    values = np.random.default_rng(14).lognormal(0, 2, 1_000_000)
    ours, theirs = KLL(200), datasketches.kll_doubles_sketch(200)
    ours.update(values)
    theirs.update(values)
    assert len(ours.to_bytes()) <= 1.1 * len(theirs.serialize()), (
        len(ours.to_bytes()),
        len(theirs.serialize()),
    )
