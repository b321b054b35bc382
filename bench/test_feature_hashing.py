"""sketchy.FeatureHasher against scikit-learn's (batch) and River's (stream), on the same 100,000 dicts.

Targets (issue #3): ``transform`` ≥ 3x faster than scikit-learn's ``FeatureHasher.transform``;
``transform_one`` in a loop ≥ 3x faster than River's ``FeatureHasher.transform_one``; and (issue #22)
under 1.6x the floor, a loop that only builds each row's dict (the same keys and values) in Python.
"""

from __future__ import annotations

import pytest

from sketchy import FeatureHasher


@pytest.mark.benchmark(group="feature hashing/transform 100k dicts")
def test_transform_sketchy(benchmark, observations):
    sklearn_hasher = pytest.importorskip("sklearn.feature_extraction").FeatureHasher
    matrix = benchmark(FeatureHasher().transform, observations)
    expected = sklearn_hasher().transform(observations[:1000])
    assert (matrix[:1000] != expected).nnz == 0


@pytest.mark.benchmark(group="feature hashing/transform 100k dicts")
def test_transform_sklearn(benchmark, observations):
    sklearn_hasher = pytest.importorskip("sklearn.feature_extraction").FeatureHasher
    benchmark.pedantic(sklearn_hasher().transform, (observations,), rounds=5)


@pytest.mark.benchmark(group="feature hashing/transform_one loop 100k dicts")
def test_transform_one_sketchy(benchmark, call_each, observations):
    benchmark.pedantic(call_each, (FeatureHasher().transform_one, observations), rounds=5)


@pytest.mark.benchmark(group="feature hashing/transform_one loop 100k dicts")
def test_transform_one_sketchy_river_step(benchmark, call_each, observations):
    river_form = pytest.importorskip("sketchy.river")
    benchmark.pedantic(call_each, (river_form.FeatureHasher().transform_one, observations), rounds=5)


@pytest.mark.benchmark(group="feature hashing/transform_one loop 100k dicts")
def test_transform_one_river(benchmark, call_each, observations):
    preprocessing = pytest.importorskip("river.preprocessing")
    benchmark.pedantic(call_each, (preprocessing.FeatureHasher(seed=0).transform_one, observations), rounds=5)


@pytest.mark.benchmark(group="feature hashing/transform_one loop 100k dicts")
def test_transform_one_floor_dict_comprehension(benchmark, observations):
    """Not a peer: the floor of any ``transform_one``, a loop building the same rows' dicts in Python."""
    hasher = FeatureHasher()
    rows = [list(hasher.transform_one(x).items()) for x in observations]

    def build_rows() -> None:
        for row in rows:
            {column: value for column, value in row}

    benchmark.pedantic(build_rows, rounds=5)


# --- interactions (issue #13): 10 crosses, in Rust against the dicts expanded in Python ---------------

CROSSES = [
    ("user", "city"), ("user", "device"), ("user", "page"), ("city", "device"), ("page", "device"),
    ("user", "price"), ("city", "temp"), ("price", "score"), ("clicks", "age"), ("device", "clicks"),
]  # fmt: skip


def expand(rows: list[dict]) -> list[dict]:
    """The crosses written out as scikit-learn would need them (``FeatureHasher``'s definition)."""
    out = []
    for x in rows:
        d = dict(x)
        for a, b in CROSSES:
            va, vb = x[a], x[b]
            la = f"{a}={va}" if isinstance(va, str) else a
            lb = f"{b}={vb}" if isinstance(vb, str) else b
            value = (1.0 if isinstance(va, str) else va) * (1.0 if isinstance(vb, str) else vb)
            if value != 0:
                d[f"{la}*{lb}"] = value
        out.append(d)
    return out


@pytest.mark.benchmark(group="feature hashing/transform 100k dicts, 10 crosses")
def test_interactions_sketchy(benchmark, observations):
    sklearn_hasher = pytest.importorskip("sklearn.feature_extraction").FeatureHasher
    hasher = FeatureHasher(interactions=CROSSES)
    expected = sklearn_hasher().transform(expand(observations[:1000]))
    assert (hasher.transform(observations[:1000]) != expected).nnz == 0
    benchmark(hasher.transform, observations)


@pytest.mark.benchmark(group="feature hashing/transform 100k dicts, 10 crosses")
def test_interactions_expanded_in_python_sklearn(benchmark, observations):
    sklearn_hasher = pytest.importorskip("sklearn.feature_extraction").FeatureHasher
    benchmark.pedantic(lambda: sklearn_hasher().transform(expand(observations)), rounds=3)
