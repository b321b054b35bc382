"""sketchy.FeatureHasher against scikit-learn's (batch) and River's (stream), on the same 100,000 dicts.

Targets (issue #3): ``transform`` ≥ 3x faster than scikit-learn's ``FeatureHasher.transform``;
``transform_one`` in a loop ≥ 3x faster than River's ``FeatureHasher.transform_one``.
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
