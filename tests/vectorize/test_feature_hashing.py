"""sketchy.FeatureHasher against scikit-learn's FeatureHasher, and in sklearn and River pipelines."""

from __future__ import annotations

import math
import pickle
import random
import subprocess
import sys
import threading
from decimal import Decimal

import mmh3
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction import FeatureHasher as SklearnHasher

from sketchy import FeatureHasher

# murmur3_32(b"U\x07o\x83") == -2**31 (built by inverting murmur3; checked against mmh3 below), the
# one hash whose C abs() is undefined and that scikit-learn special-cases.
MIN_HASH_KEY = b"U\x07o\x83"


def assert_same_matrix(ours, theirs):
    assert type(ours) is type(theirs) is sp.csr_matrix
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    assert ours.indices.dtype == theirs.indices.dtype and ours.indptr.dtype == theirs.indptr.dtype
    np.testing.assert_array_equal(ours.indptr, theirs.indptr)
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    # Bit for bit, NaN payloads and signed zeros included.
    width = {8: np.uint64, 4: np.uint32}[ours.dtype.itemsize]
    np.testing.assert_array_equal(ours.data.view(width), theirs.data.view(width))
    assert ours.has_canonical_format and theirs.has_canonical_format


def both(samples, **params):
    """(ours, scikit-learn's) transform of the same samples; both raise alike or neither does."""
    samples = list(samples)
    try:
        theirs = SklearnHasher(**params).transform(samples)
    except Exception as err:  # the same kind of error from us
        with pytest.raises(type(err) if not isinstance(err, AttributeError) else TypeError):
            FeatureHasher(**params).transform(samples)
        return None, None
    return FeatureHasher(**params).transform(samples), theirs


# --- random and tricky observations -------------------------------------------------------------------

NAMES = ["", "a", "b", "city", "temp", "ünï", "日本", "x=y", "=", "a b", "😀", "tag"]
STRINGS = ["", "Paris", "FR", "ü", "=", "1", "None", "😀😀", "a=b"]


def tricky_value(rng: random.Random):
    return rng.choice(
        [
            0,
            0.0,
            -0.0,
            1,
            -3,
            2.5,
            -1e300,
            1e-320,
            math.nan,
            math.inf,
            -math.inf,
            True,
            False,
            np.float32(1.5),
            np.float64(-2.25),
            np.int64(7),
            np.int8(-2),
            np.bool_(True),
            Decimal("1.1"),
            2**53 + 1,
            rng.random(),
            rng.uniform(-1e6, 1e6),
            rng.choice(STRINGS),
            np.str_("np"),
        ]
    )


def random_observation(rng: random.Random, n_features: int) -> dict:
    x = {}
    for _ in range(rng.randrange(0, 25)):
        name = rng.choice(NAMES) + (str(rng.randrange(50)) if rng.random() < 0.5 else "")
        key = name.encode() if rng.random() < 0.15 else name
        x[key] = tricky_value(rng)
    return x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("alternate_sign", [True, False])
@pytest.mark.parametrize("n_features", [1, 2, 3, 10, 1000, 2**20, 2**31 - 1])
def test_bit_exact_on_thousands_of_random_observations(dtype, alternate_sign, n_features):
    rng = random.Random(n_features * 31 + alternate_sign)
    samples = [random_observation(rng, n_features) for _ in range(2000)]
    params = dict(n_features=n_features, dtype=dtype, alternate_sign=alternate_sign)
    ours, theirs = both(samples, **params)
    assert ours is not None
    assert_same_matrix(ours, theirs)
    hasher = FeatureHasher(**params)
    for i in range(0, 2000, 7):
        row = ours.getrow(i)
        expected = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        got = hasher.transform_one(samples[i])
        assert list(got) == list(expected)
        np.testing.assert_array_equal(np.array(list(got.values())), np.array(list(expected.values())))


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_int_dtypes_sign_before_truncation(dtype):
    rng = random.Random(5)
    samples = [{f"f{j}": rng.uniform(-100, 100) for j in range(rng.randrange(12))} for _ in range(1000)]
    samples += [{"a": 2.7, "b": -3.9, "c": "s"}, {"big": 2.0**30 + 0.5, "neg": -(2.0**30)}]
    ours, theirs = both(samples, n_features=64, dtype=dtype)
    assert_same_matrix(ours, theirs)
    for bad, error in [(math.nan, ValueError), (math.inf, OverflowError), (1e30, OverflowError)]:
        with pytest.raises(error):
            FeatureHasher(8, dtype=dtype).transform([{"a": bad}])
        with pytest.raises(error):
            SklearnHasher(8, dtype=dtype).transform([{"a": bad}])


@settings(max_examples=300)
@given(
    samples=st.lists(
        st.dictionaries(
            st.text(max_size=6) | st.binary(max_size=6),
            st.floats(allow_nan=True) | st.integers(-(2**60), 2**60) | st.text(max_size=5) | st.booleans(),
            max_size=30,
        ),
        min_size=1,
        max_size=20,
    ),
    n_features=st.integers(1, 2**31 - 1),
    alternate_sign=st.booleans(),
)
def test_bit_exact_property(samples, n_features, alternate_sign):
    ours, theirs = both(samples, n_features=n_features, alternate_sign=alternate_sign)
    if ours is not None:
        assert_same_matrix(ours, theirs)


def test_collisions_cancel_into_explicit_zeros_and_long_rows():
    # Two features hashed to one column with opposite signs leave an explicit 0 (kept by scikit-learn).
    hasher = FeatureHasher(n_features=1)
    names = [f"k{i}" for i in range(50)]
    pos = next(n for n in names if mmh3.hash(n) >= 0)
    neg = next(n for n in names if mmh3.hash(n) < 0)
    ours, theirs = both([{pos: 2.0, neg: 2.0}], n_features=1)
    assert_same_matrix(ours, theirs)
    assert ours.nnz == 1 and ours.data[0] == 0.0
    assert hasher.transform_one({pos: 2.0, neg: 2.0}) == {0: 0.0}
    # Rows of more than 16 features with 3+ floats in one column: scipy sums those in its own order.
    rng = random.Random(0)
    samples = [
        {f"f{j}": rng.uniform(-1, 1) * 10 ** rng.randrange(-8, 8) for j in range(40)} for _ in range(300)
    ]
    for n in (2, 3, 7):
        ours, theirs = both(samples, n_features=n)
        assert_same_matrix(ours, theirs)
        assert FeatureHasher(n).transform_one(samples[0]) == dict(
            zip(theirs.getrow(0).indices.tolist(), theirs.getrow(0).data.tolist(), strict=True)
        )


def test_the_minimum_hash_corner():
    assert mmh3.hash(MIN_HASH_KEY) == -(2**31)
    for n in (1, 3, 10, 2**20, 2**31 - 1):
        ours, theirs = both([{MIN_HASH_KEY: 1.5}], n_features=n)
        assert_same_matrix(ours, theirs)
        assert FeatureHasher(n).transform_one({MIN_HASH_KEY: 1.5}) == {2**31 % n: -1.5}


def test_string_values_and_any_key_type():
    samples = [{1: "x", b"k": "v", None: "z", 2.5: "w", (1, 2): "t", "s": np.str_("n")}]
    ours, theirs = both(samples, n_features=2**20)
    assert_same_matrix(ours, theirs)


def test_input_types_pair_and_string_and_generators():
    pairs = [[("a", 1), ("b", "x"), (b"c", 2.5)], [], (("a", -1),)]
    ours, theirs = both(pairs, n_features=128, input_type="pair")
    assert_same_matrix(ours, theirs)
    strings = [["dog", "cat", "snake"], ["snake", "dog"], ["cat", "bird"], [], ["dog"] * 20]
    ours, theirs = both(strings, n_features=8, input_type="string")
    assert_same_matrix(ours, theirs)
    gen = FeatureHasher(n_features=8, input_type="string").transform(iter(s) for s in strings)
    assert_same_matrix(gen, theirs)
    with pytest.raises(ValueError, match="single string"):
        FeatureHasher(input_type="string").transform(["dog"])
    first = theirs.getrow(0)
    assert FeatureHasher(8, input_type="string").transform_one(strings[0]) == dict(
        zip(first.indices.tolist(), first.data.tolist(), strict=True)
    )
    assert FeatureHasher(8, input_type="pair").transform_one([("a", 1)]) == FeatureHasher(8).transform_one(
        {"a": 1}
    )


def test_mappings_that_are_not_dicts():
    from collections import OrderedDict
    from types import MappingProxyType

    for mapping in (OrderedDict(a=1, b="x"), MappingProxyType({"a": 1, "b": "x"})):
        ours, theirs = both([mapping], n_features=64)
        assert_same_matrix(ours, theirs)


def test_collections_of_strings_extension():
    hasher = FeatureHasher(n_features=2**20)
    expected = hasher.transform_one({"tags=a": 1, "tags=b": 1, "tags=c": 1})
    for value in (["a", "b", "c"], ("a", "b", "c"), {"a", "b", "c"}, frozenset("abc")):
        assert hasher.transform_one({"tags": value}) == expected
    assert hasher.transform_one({"tags": []}) == {}
    with pytest.raises(TypeError, match=r"'tags'.*int"):
        hasher.transform_one({"tags": ["a", 1]})
    batch = hasher.transform([{"tags": ["a", "b", "c"]}])
    assert_same_matrix(
        batch, SklearnHasher(n_features=2**20).transform([{"tags=a": 1, "tags=b": 1, "tags=c": 1}])
    )


def test_seed_selects_another_murmur3_seed():
    hasher = FeatureHasher(n_features=2**20, seed=42, alternate_sign=True)
    h = mmh3.hash("city=Paris", 42)
    assert hasher.transform_one({"city": "Paris"}) == {abs(h) % 2**20: 1.0 if h >= 0 else -1.0}
    assert hasher.transform_one({"city": "Paris"}) != FeatureHasher(n_features=2**20).transform_one(
        {"city": "Paris"}
    )


# --- scikit-learn and River integration --------------------------------------------------------------


def test_sklearn_pipeline_clone_and_params():
    from sklearn.base import clone
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    rng = random.Random(3)
    cities = [f"c{i}" for i in range(20)]
    X = [{"city": rng.choice(cities), "temp": rng.gauss(20, 5)} for _ in range(2000)]
    y = [int(x["city"] in cities[:10]) for x in X]
    ours = make_pipeline(FeatureHasher(n_features=2**10), SGDClassifier(random_state=0)).fit(
        X[:1500], y[:1500]
    )
    theirs = make_pipeline(SklearnHasher(n_features=2**10), SGDClassifier(random_state=0)).fit(
        X[:1500], y[:1500]
    )
    # The same matrices, so the same model, coefficient for coefficient.
    np.testing.assert_array_equal(ours[-1].coef_, theirs[-1].coef_)
    predicted = ours.predict(X[1500:])
    np.testing.assert_array_equal(predicted, theirs.predict(X[1500:]))
    assert np.mean(predicted == np.array(y[1500:])) > 0.8  # learnt from the hashed city (chance: 0.5)
    hasher = FeatureHasher(n_features=32, dtype=np.float32, alternate_sign=False, seed=7)
    copy = clone(hasher)
    assert copy is not hasher and copy.get_params() == hasher.get_params()
    assert hasher.set_params(n_features=64) is hasher and hasher.n_features == 64
    assert hasher.transform([{"a": 1}]).shape == (1, 64)
    with pytest.raises(ValueError, match="Invalid parameter"):
        hasher.set_params(bogus=1)
    with pytest.raises(ValueError, match="n_features"):
        hasher.set_params(n_features=0)
    assert hasher.n_features == 64  # unchanged after a failed set_params
    assert hasher.fit([]) is hasher and hasher.learn_one({"a": 1}) is None
    assert_same_matrix(hasher.fit_transform([{"a": 3}]), hasher.transform([{"a": 3}]))


def test_pickle_round_trip():
    hasher = FeatureHasher(n_features=100, dtype=np.float32, seed=3)
    copy = pickle.loads(pickle.dumps(hasher))
    assert copy == hasher
    assert copy.transform_one({"a": "b", "c": 2}) == hasher.transform_one({"a": "b", "c": 2})


def test_river_pipeline_learns_on_hashed_features():
    pytest.importorskip("river")
    from river import compose, datasets, linear_model, metrics, preprocessing

    from sketchy.river import FeatureHasher as RiverHasher

    def run(model):
        metric = metrics.Accuracy()
        for x, y in datasets.Phishing():
            metric.update(y, model.predict_one(x))
            model.learn_one(x, y)
        return model, metric.get()

    hasher = RiverHasher(n_features=2**12)
    model, accuracy = run(preprocessing.StandardScaler() | hasher | linear_model.LogisticRegression())
    assert accuracy > 0.85, accuracy
    weights = model["LogisticRegression"].weights
    assert weights and all(isinstance(k, int) and 0 <= k < 2**12 for k in weights)  # hashed columns
    union = compose.TransformerUnion(
        RiverHasher(n_features=2**10), compose.Select("empty_server_form_handler")
    )
    model, accuracy = run(
        preprocessing.StandardScaler()
        | (RiverHasher(n_features=2**10) + compose.Select("popup_window"))
        | linear_model.LogisticRegression()
    )
    assert accuracy > 0.85, accuracy
    assert isinstance(union.transform_one({"empty_server_form_handler": 0.5, "x": 1}), dict)
    clone = hasher.clone()
    assert clone.n_features == 2**12 and clone is not hasher
    assert hasher.transform_one({"a": "b"}) == FeatureHasher(n_features=2**12).transform_one({"a": "b"})


def test_import_sketchy_imports_neither_river_nor_numpy():
    code = "import sys, sketchy; print(sorted(m for m in ('river', 'numpy', 'sklearn', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == "[]"


# --- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_features", [0, -1, 2**31, 1.5, "8", True, None])
def test_n_features_is_validated_at_construction(n_features):
    with pytest.raises(ValueError, match="n_features"):
        FeatureHasher(n_features=n_features)


@pytest.mark.parametrize(
    "params",
    [
        dict(input_type="list"),
        dict(dtype=np.uint8),
        dict(dtype="complex128"),
        dict(seed=-1),
        dict(seed=2**32),
        dict(alternate_sign="yes"),
    ],
)
def test_other_parameters_are_validated(params):
    with pytest.raises(ValueError):
        FeatureHasher(**params)


def test_bad_values_and_names_name_the_feature():
    hasher = FeatureHasher(n_features=8)
    with pytest.raises(TypeError, match=r"feature 'temp'.*NoneType"):
        hasher.transform([{"temp": None}])
    with pytest.raises(TypeError, match=r"feature 'temp'.*dict"):
        hasher.transform_one({"temp": {}})
    with pytest.raises(TypeError, match="feature names must be strings"):
        hasher.transform([{1: 2.0}])
    assert hasher.transform_one({1: 0}) == {}  # zeros are skipped before the name is checked
    with pytest.raises(ValueError, match="empty sequence"):
        hasher.transform([])
    with pytest.raises(TypeError):
        hasher.transform([[1, 2]])
    with pytest.raises(UnicodeEncodeError):
        hasher.transform_one({"\ud800": 1})
    with pytest.raises(OverflowError):
        hasher.transform_one({"a": 10**400})


@settings(max_examples=300)
@given(
    st.lists(
        st.dictionaries(
            st.text(max_size=3), st.none() | st.complex_numbers() | st.lists(st.integers()) | st.floats()
        )
    )
)
def test_never_panics(samples):
    try:
        FeatureHasher(n_features=16).transform(samples)
    except (TypeError, ValueError, OverflowError):
        pass


def test_large_batches_are_hashed_in_a_pipeline_with_the_same_result():
    # Over 65,536 tokens a second thread hashes while the first reads: same matrix, same errors.
    rng = random.Random(11)
    samples = [random_observation(rng, 2**18) for _ in range(20_000)]
    ours, theirs = both(samples, n_features=2**18)
    assert ours.nnz > 100_000
    assert_same_matrix(ours, theirs)
    ours, theirs = both(iter(samples), n_features=2**18, dtype=np.float32, alternate_sign=False)
    assert_same_matrix(ours, theirs)
    late_type_error = [*samples, {"bad": None}, *samples[:100]]
    with pytest.raises(TypeError, match="'bad'"):
        FeatureHasher(2**18).transform(late_type_error)
    late_nan = [{f"f{j}": 1.0 for j in range(10)} for _ in range(20_000)] + [{"x": math.nan}]
    with pytest.raises(ValueError, match="NaN"):
        FeatureHasher(64, dtype=np.int64).transform(late_nan)


def test_one_hasher_shared_by_threads_gives_the_serial_results():
    """transform (which hashes on a second thread for large batches) and transform_one from 8 threads
    at once: the same matrices and rows as one after the other, and no exception."""
    hasher = FeatureHasher(n_features=2**12)
    batches = [
        [{f"f{(t * 7 + i) % 300}": float(i % 5), "city": f"c{i % 11}"} for i in range(30_000)]
        for t in range(8)
    ]
    serial = [hasher.transform(b) for b in batches]
    rows = [hasher.transform_one(b[0]) for b in batches]
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def run(t: int) -> None:
        try:
            results[t] = (
                hasher.transform(batches[t]),
                [hasher.transform_one(batches[t][0]) for _ in range(200)],
            )
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(results) == 8
    for t in range(8):
        matrix, ones = results[t]
        assert (matrix != serial[t]).nnz == 0 and matrix.shape == serial[t].shape
        assert all(row == rows[t] for row in ones)


# --- interactions ----------------------------------------------------------------------------------


def expanded(x: dict, pairs) -> dict:
    """The dict scikit-learn hashes for ``x`` with its crosses written out, as ``interactions``
    defines them: collections of strings as one ``name=item`` entry each, then the crosses."""

    def parts(name, value):
        if isinstance(value, str):
            return [(f"{name}={value}", 1.0)]
        if isinstance(value, list | tuple | set):
            return [(f"{name}={v}", 1.0) for v in value]
        return [(name, float(value))] if float(value) != 0 else []

    out: dict = {}
    for name, value in x.items():
        if isinstance(value, list):
            for v in value:
                out[f"{name}={v}"] = out.get(f"{name}={v}", 0) + 1
        else:
            out[name] = value
    for a, b in pairs:
        if a in x and b in x:
            for la, va in parts(a, x[a]):
                for lb, vb in parts(b, x[b]):
                    if va * vb != 0:
                        out[f"{la}*{lb}"] = out.get(f"{la}*{lb}", 0) + va * vb
    return out


def crossed_rows(seed: int, n: int = 300) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        row = {
            "user": f"u{rng.integers(50)}",
            "item": f"i{rng.integers(30)}",
            "price": float(rng.choice([0.0, 1.5, -2.25, 3.0, float(rng.normal())])),
            "count": int(rng.integers(0, 4)),
        }
        if rng.random() < 0.3:
            del row["item"]
        if rng.random() < 0.3:
            row["tags"] = [f"t{t}" for t in sorted(set(rng.integers(0, 5, rng.integers(1, 3)).tolist()))]
        rows.append(row)
    return rows


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_interactions_equal_scikit_learn_on_the_expanded_dicts(dtype):
    sk = pytest.importorskip("sklearn.feature_extraction").FeatureHasher
    pairs = [("user", "item"), ("user", "price"), ("price", "item"), ("price", "count"), ("tags", "user")]
    rows = crossed_rows(0)
    ours = FeatureHasher(2**18, dtype=dtype, interactions=pairs)
    want = sk(2**18, dtype=dtype).transform([expanded(r, pairs) for r in rows])
    got = ours.transform(rows)
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
    assert got.data.tobytes() == want.data.tobytes()
    for row in rows[:50]:
        one = got[rows.index(row)]
        assert ours.transform_one(row) == dict(zip(one.indices.tolist(), one.data.tolist(), strict=True))


def test_all_pairs_and_bad_interactions():
    sk = pytest.importorskip("sklearn.feature_extraction").FeatureHasher
    rows = [{"a": "x", "b": 2.0, "c": "z"}, {"b": 0.0, "c": "w"}]
    every = [[("a", "b"), ("a", "c"), ("b", "c")], [("b", "c")]]
    got = FeatureHasher(64, interactions="all").transform(rows)
    want = sk(64).transform([expanded(r, p) for r, p in zip(rows, every, strict=True)])
    assert (got != want).nnz == 0 and np.array_equal(got.indices, want.indices)
    with pytest.raises(ValueError, match="interactions"):
        FeatureHasher(interactions=[("a",)])
    with pytest.raises(ValueError, match="interactions"):
        FeatureHasher(interactions=3)
    with pytest.raises(ValueError, match="input_type='dict'"):
        FeatureHasher(input_type="pair", interactions=[("a", "b")])
    assert FeatureHasher(interactions=[("a", "b")]).get_params()["interactions"] == [("a", "b")]
