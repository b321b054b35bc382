"""``sketchy.river.Quantile``: a River statistic backed by a DDSketch, compared with River's P² quantile
and with numpy's exact (lower) quantile, inside River's aggregations and pipelines."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

pytest.importorskip("river")

from river import compose, feature_extraction, linear_model, preprocessing, stats

from sketchy.river import Quantile

ALPHA = 0.01
QS = [0.01, 0.1, 0.5, 0.9, 0.99]


def make_streams() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2024)
    two_phases = np.concatenate([rng.normal(1, 0.1, 5_000), rng.normal(100, 1, 5_000)])
    return {
        "normal": rng.normal(10, 2, 20_000),
        "lognormal": rng.lognormal(0, 1, 20_000),
        "exponential": rng.exponential(3, 20_000),
        "two-phases": two_phases,  # all the values of one mode, then all of the other
        "descending": np.sort(two_phases)[::-1],
    }


STREAMS = make_streams()


def relative_error(estimate: float, truth: float) -> float:
    return abs(estimate - truth) / abs(truth)


def run(statistic, values: np.ndarray):
    for x in values.tolist():
        statistic.update(x)
    return statistic.get()


def test_is_a_river_univariate_statistic():
    median = Quantile()
    assert isinstance(median, stats.base.Univariate)
    assert (median.q, median.relative_accuracy, median.max_bins) == (0.5, 0.01, 2048)
    assert Quantile(0.99).name == "quantile_0.99"
    assert not hasattr(median, "revert")  # a DDSketch only adds
    assert repr(median) == "Quantile: None"
    median.update(2)
    assert repr(median) == f"Quantile: {median.get():,.6f}".rstrip("0")


def test_empty_is_none_like_river():
    assert stats.Quantile(0.5).get() is None
    assert Quantile(0.5).get() is None
    only_nan = Quantile(0.5)
    only_nan.update(math.nan)  # skipped, and counted by the sketch
    assert only_nan.get() is None


@pytest.mark.parametrize("q", [-0.1, 1.5, math.nan, "0.5", True, None])
def test_bad_q_is_refused(q):
    with pytest.raises(ValueError, match="q must be a number in"):
        Quantile(q)


def test_bad_relative_accuracy_is_refused():
    with pytest.raises(ValueError, match="relative_accuracy"):
        Quantile(0.5, relative_accuracy=0)


def test_q_0_and_1_are_the_min_and_max():
    values = STREAMS["normal"]
    assert run(Quantile(0), values) == values.min()
    assert run(Quantile(1), values) == values.max()


@pytest.mark.parametrize("q", QS)
@pytest.mark.parametrize("name", ["normal", "lognormal", "exponential"])
def test_agrees_with_river_on_an_iid_stream(name, q):
    values = STREAMS[name]
    truth = np.quantile(values, q, method="lower")
    ours = run(Quantile(q), values)
    p_square = run(stats.Quantile(q), values)
    assert relative_error(ours, truth) <= ALPHA
    # River's P² estimate is close to the truth on such a stream, so the two agree.
    assert relative_error(p_square, truth) <= 0.03
    assert relative_error(ours, p_square) <= ALPHA + 0.03


@pytest.mark.parametrize("q", [0.25, 0.5, 0.75])
@pytest.mark.parametrize("name", ["two-phases", "descending"])
def test_stays_within_alpha_where_p_square_does_not(name, q):
    values = STREAMS[name]
    truth = np.quantile(values, q, method="lower")
    assert relative_error(run(Quantile(q), values), truth) <= ALPHA
    if q < 0.75:
        assert relative_error(run(stats.Quantile(q), values), truth) > 1  # P² is far off


@pytest.mark.parametrize(("relative_accuracy", "max_bins"), [(0.05, 2048), (0.005, 2048), (0.001, 8192)])
def test_relative_accuracy_and_max_bins_are_passed_to_the_sketch(relative_accuracy, max_bins):
    values = STREAMS["lognormal"]  # about 4,200 bins of 0.1%: 2,048 would collapse the lowest
    for q in QS:
        truth = np.quantile(values, q, method="lower")
        statistic = Quantile(q, relative_accuracy=relative_accuracy, max_bins=max_bins)
        assert relative_error(run(statistic, values), truth) <= relative_accuracy
        assert statistic.clone()._sketch.max_bins == max_bins


def test_agg_by_group():
    rng = np.random.default_rng(5)
    rows = [{"route": f"r{i % 3}", "delay": float(d)} for i, d in enumerate(rng.exponential(10, 3_000))]
    agg = feature_extraction.Agg(on="delay", by="route", how=Quantile(0.9))
    for x in rows:
        agg.learn_one(x)
    assert str(agg) == "delay_quantile_0.9_by_route"
    for route in ("r0", "r1", "r2"):
        delays = np.array([x["delay"] for x in rows if x["route"] == route])
        (value,) = agg.transform_one({"route": route}).values()
        assert relative_error(value, np.quantile(delays, 0.9, method="lower")) <= ALPHA
    assert agg.transform_one({"route": "unseen"}) == {"delay_quantile_0.9_by_route": None}
    state = agg.state
    assert sorted(state.index) == ["r0", "r1", "r2", "unseen"]


def test_agg_in_a_pipeline_with_river_steps():
    rng = np.random.default_rng(6)
    features = feature_extraction.Agg(on="delay", by="route", how=Quantile(0.5)) + feature_extraction.Agg(
        on="delay", by="route", how=Quantile(0.99)
    )
    model = compose.Pipeline(features, preprocessing.StandardScaler(), linear_model.LinearRegression())
    for i in range(2_000):
        route = f"r{i % 4}"
        delay = float(rng.exponential(1 + i % 4))
        x = {"route": route, "delay": delay}
        model.learn_one(x, delay)  # first: an unseen group's statistic is None (River's too)
        model.predict_one(x)
    out = features.transform_one({"route": "r3"})
    assert set(out) == {"delay_quantile_0.5_by_route", "delay_quantile_0.99_by_route"}
    assert 0 < out["delay_quantile_0.5_by_route"] < out["delay_quantile_0.99_by_route"]
    assert isinstance(model.predict_one({"route": "r3", "delay": 1.0}), float)
    # River's own statistic in the same place gives the same feature names but for the name of `how`.
    river_features = feature_extraction.Agg(on="delay", by="route", how=stats.Quantile(0.5))
    river_features.learn_one({"route": "r0", "delay": 1.0})
    assert river_features.transform_one({"route": "r0"}) == {"delay_quantile_by_route": 1.0}


def test_clone_pickle_and_copy():
    statistic = Quantile(0.9, relative_accuracy=0.02)
    run(statistic, STREAMS["normal"])
    fresh = statistic.clone()
    assert type(fresh) is Quantile and fresh.get() is None
    assert (fresh.q, fresh.relative_accuracy) == (0.9, 0.02)
    assert statistic.clone({"q": 0.1}).q == 0.1
    restored = pickle.loads(pickle.dumps(statistic))
    assert restored.get() == statistic.get() and restored._sketch == statistic._sketch
    twin = copy.deepcopy(statistic)
    twin.update(1e6)
    assert twin.get() != statistic.get() or twin._sketch != statistic._sketch

    agg = feature_extraction.Agg(on="v", by=None, how=Quantile(0.5))
    pipeline = agg | linear_model.LinearRegression()
    pipeline.learn_one({"v": 3.0}, 1.0)
    cloned = pipeline.clone()
    assert cloned["Agg"].how.get() is None and cloned["Agg"].how.q == 0.5
    assert agg.transform_one({"v": 0.0})["v_quantile_0.5"] == pytest.approx(3.0, rel=ALPHA)
    assert cloned["Agg"].transform_one({"v": 0.0}) == {"v_quantile_0.5": None}


def test_numpy_scalars_and_ints():
    statistic = Quantile(1)
    statistic.update(np.float32(2.5))
    statistic.update(np.int64(7))
    statistic.update(3)
    assert statistic.get() == pytest.approx(7, rel=ALPHA)
    with pytest.raises(TypeError):
        statistic.update("7")
