"""Feature hashing: dict observations to sparse hashed features, for streams and batches.

One definition serves scikit-learn (``transform`` to a CSR matrix, bit-exact with
``sklearn.feature_extraction.FeatureHasher``) and streaming pipelines (``transform_one`` to a dict,
the same row). :mod:`sketchy.river` wraps it as a River transformer.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from sketchy import _native

_INPUT_TYPES = ("dict", "pair", "string")
_DTYPES = ("float64", "float32", "int64", "int32")


def _dtype_name(dtype: Any) -> str:
    try:
        name = str(np.dtype(dtype).name)
    except TypeError as err:
        raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}") from err
    if name not in _DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {name}")
    return name


class FeatureHasher:
    """Turns observations into sparse vectors with the hashing trick, for batches and streams.

    Each feature becomes a token (its name, or ``"name=value"`` when the value is a string, with value
    1); the signed 32-bit MurmurHash3 ``h`` of the token picks the column ``abs(h) % n_features`` and,
    with ``alternate_sign``, the sign of the value (negative when ``h < 0``), which keeps collisions
    from biasing inner products. Values that land in one column of a row are summed; zero values are
    skipped. No vocabulary is kept: the memory is fixed and unseen features need no refit.

    ``transform`` is bit-exact with :class:`sklearn.feature_extraction.FeatureHasher` for the same
    parameters (at ``seed=0``) and several times faster; ``transform_one`` gives the same row as a
    dict, for streams. Beyond scikit-learn, a value that is a list, tuple or set of strings adds one
    ``"name=item"`` token per string.

    Parameters
    ----------
    n_features : int, default=2**20
        Number of columns, in [1, 2**31 - 1].
    input_type : {"dict", "pair", "string"}, default="dict"
        A sample is a dict ``{name: value}``, an iterable of ``(name, value)`` pairs, or an iterable
        of names (each with value 1).
    dtype : numpy dtype, default=numpy.float64
        float64, float32, int64 or int32. Values are signed in float64 and then cast, as in
        scikit-learn (so int dtypes truncate toward zero).
    alternate_sign : bool, default=True
        Flip the sign of the values of tokens whose hash is negative.
    seed : int, default=0
        The murmur3 seed, in [0, 2**32). Only seed 0 matches scikit-learn.
    interactions : list of (str, str), "all" or None, default=None
        Feature crosses (``input_type="dict"``), hashed without building their names in Python. A
        cross of features ``a`` and ``b`` present in a sample is the feature scikit-learn would hash
        for the dict with the cross written out: for strings ``a="x"``, ``b="y"`` the token
        ``"a=x*b=y"`` with value 1; for a string ``a`` and a number ``b`` the token ``"a=x*b"`` with
        value ``b`` (``"a*b=y"`` with value ``a`` the other way round); for two numbers ``"a*b"``
        with ``a * b``; a collection of strings crosses each of its strings; a zero product is
        skipped. Crosses come after the sample's own features, in the order given; ``"all"`` crosses
        every pair of the sample's features in the sample's order.

    Examples
    --------
    >>> from sketchy import FeatureHasher
    >>> hasher = FeatureHasher(n_features=10)
    >>> X = hasher.transform([{"dog": 1, "cat": 2, "elephant": 4}, {"dog": 2, "run": 5}])
    >>> X.toarray()
    array([[ 0.,  0., -4., -1.,  0.,  0.,  0.,  0.,  0.,  2.],
           [ 0.,  0.,  0., -2., -5.,  0.,  0.,  0.,  0.,  0.]])
    >>> hasher.transform_one({"dog": 2, "run": 5})
    {3: -2.0, 4: -5.0}
    >>> hasher.transform_one({"city": "Paris", "tags": ["a", "b"]})
    {5: 1.0, 7: -1.0, 9: 1.0}
    >>> crossed = FeatureHasher(n_features=10, interactions=[("user", "item")])
    >>> crossed.transform_one({"user": "u1", "item": "i9"}) == FeatureHasher(n_features=10).transform_one(
    ...     {"user": "u1", "item": "i9", "user=u1*item=i9": 1}
    ... )
    True

    References
    ----------
    Weinberger, Dasgupta, Langford, Smola and Attenberg, "Feature Hashing for Large Scale Multitask
    Learning", ICML 2009.
    """

    def __init__(
        self,
        n_features: int = 2**20,
        *,
        input_type: str = "dict",
        dtype: Any = np.float64,
        alternate_sign: bool = True,
        seed: int = 0,
        interactions: Any = None,
    ) -> None:
        self.n_features = n_features
        self.input_type = input_type
        self.dtype = dtype
        self.alternate_sign = alternate_sign
        self.seed = seed
        self.interactions = interactions
        self._bind()

    def _bind(self) -> None:
        """Validates the parameters and builds the Rust hasher for them."""
        n = self.n_features
        if not isinstance(n, numbers.Integral) or isinstance(n, bool):
            raise ValueError(f"n_features must be an int in [1, 2**31 - 1], got {n!r}")
        if not 1 <= n <= 2**31 - 1:
            raise ValueError(f"n_features must be in [1, 2**31 - 1], got {n}")
        if self.input_type not in _INPUT_TYPES:
            raise ValueError(f"input_type must be one of {_INPUT_TYPES}, got {self.input_type!r}")
        if not isinstance(self.alternate_sign, (bool, np.bool_)):
            raise ValueError(f"alternate_sign must be a bool, got {self.alternate_sign!r}")
        seed = self.seed
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or not 0 <= seed < 2**32:
            raise ValueError(f"seed must be an int in [0, 2**32), got {seed!r}")
        interactions = self.interactions
        if interactions is not None and interactions != "all":
            try:
                interactions = [tuple(pair) for pair in interactions]
            except TypeError as err:
                raise ValueError(
                    f"interactions must be None, 'all' or (name, name) pairs, got {interactions!r}"
                ) from err
        self._hashing: _native.FeatureHashing = _native.FeatureHashing(
            int(n),
            self.input_type,
            _dtype_name(self.dtype),
            bool(self.alternate_sign),
            int(seed),
            interactions,
        )
        # The instance attribute shadows the method below: calling the Rust method directly saves a
        # Python frame, a sixth of the cost of hashing a typical dict.
        self.transform_one = self._hashing.transform_one

    # --- scikit-learn -----------------------------------------------------------------------------

    def fit(self, X: Any = None, y: Any = None) -> FeatureHasher:
        """Does nothing (the hasher is stateless) and returns ``self``."""
        return self

    def transform(self, X: Iterable[Any]) -> Any:
        """Hashes a batch of samples into a ``scipy.sparse.csr_matrix`` of shape (n_samples, n_features).

        ``X`` is any iterable (a list, a generator...) of samples of the ``input_type``. The matrix
        is in canonical form (sorted indices, duplicates summed, explicit zeros from cancelling
        collisions kept), with int32 indices: the one scikit-learn returns.
        """
        import scipy.sparse as sp

        indptr, indices, data, canonical = self._hashing.transform(X)
        matrix = sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, self.n_features), copy=False)
        if canonical:
            matrix.has_canonical_format = True
        else:
            matrix.sum_duplicates()
        return matrix

    def fit_transform(self, X: Iterable[Any], y: Any = None) -> Any:
        """``transform(X)``: there is nothing to fit."""
        return self.transform(X)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, as scikit-learn's ``BaseEstimator.get_params``."""
        return {
            "n_features": self.n_features,
            "input_type": self.input_type,
            "dtype": self.dtype,
            "alternate_sign": self.alternate_sign,
            "seed": self.seed,
            "interactions": self.interactions,
        }

    def set_params(self, **params: Any) -> FeatureHasher:
        """Sets constructor parameters (validated), as scikit-learn's ``BaseEstimator.set_params``."""
        valid = self.get_params()
        for name in params:
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {self!r}. Valid parameters are: {sorted(valid)!r}."
                )
        old = dict(valid)
        for name, value in params.items():
            setattr(self, name, value)
        try:
            self._bind()
        except ValueError:
            for name, value in old.items():
                setattr(self, name, value)
            raise
        return self

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        tags = Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(),
            input_tags=InputTags(
                two_d_array=False, dict=self.input_type == "dict", string=self.input_type == "string"
            ),
        )
        tags.requires_fit = False
        return tags

    # --- streams ----------------------------------------------------------------------------------

    def transform_one(self, x: Any) -> dict[int, float]:
        """The hashed features of one sample as ``{column: value}``: the row ``transform([x])`` gives."""
        return self._hashing.transform_one(x)

    def learn_one(self, x: Any) -> None:
        """Does nothing: the hasher is stateless."""

    # --- plumbing ---------------------------------------------------------------------------------

    def __repr__(self) -> str:
        defaults = FeatureHasher.__init__.__kwdefaults__ or {}
        changed = [f"n_features={self.n_features}"] if self.n_features != 2**20 else []
        changed += [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if k != "n_features" and v is not defaults.get(k) and v != defaults.get(k)
        ]
        return f"FeatureHasher({', '.join(changed)})"

    def __getstate__(self) -> dict[str, Any]:
        return self.get_params()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._bind()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.get_params() == other.get_params()

    __hash__ = None  # type: ignore[assignment]


def _row_through_scipy(hashing: Any, x: Any) -> dict[int, float]:
    """The rare row that scipy must sum (see ``FeatureHashing.transform``), as a dict."""
    import scipy.sparse as sp

    indptr, indices, data, _ = hashing.transform([x])
    row = sp.csr_matrix((data, indices, indptr), shape=(1, 2**31 - 1))
    row.sum_duplicates()
    return dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
