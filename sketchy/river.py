"""sketchy's feature hashers and quantile sketch as River steps (``river`` must be installed).

River plans a pipeline from the types of its steps, so a step must be a real
:class:`river.base.Transformer` (or a :class:`river.stats.base.Univariate` statistic); this module
defines them around :class:`sketchy.FeatureHasher`, :class:`sketchy.HashingVectorizer` and
:class:`sketchy.DDSketch`.
Importing ``sketchy`` does not import River; importing ``sketchy.river`` does.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

from river import base, stats

from sketchy.feature_hashing import FeatureHasher as _FeatureHasher

if TYPE_CHECKING:
    from sketchy import DDSketch


class FeatureHasher(base.Transformer):
    """The hashing trick as a River transformer: ``transform_one`` of :class:`sketchy.FeatureHasher`.

    The same columns and signs as scikit-learn's ``FeatureHasher`` (River's own hasher disagrees
    with scikit-learn for about half of all tokens), several times faster than River's.

    Parameters
    ----------
    n_features : int, default=2**20
        Number of columns, in [1, 2**31 - 1].
    alternate_sign : bool, default=True
        Flip the sign of the values of tokens whose hash is negative.
    seed : int, default=0
        The murmur3 seed, in [0, 2**32).

    Examples
    --------
    >>> from river import linear_model
    >>> from sketchy.river import FeatureHasher
    >>> model = FeatureHasher(n_features=16) | linear_model.LogisticRegression()
    >>> model.learn_one({"city": "Paris", "temp": 21.5}, True)
    >>> FeatureHasher(n_features=16).transform_one({"city": "Paris", "temp": 21.5})
    {1: -1.0, 7: 21.5}
    """

    def __init__(self, n_features: int = 2**20, alternate_sign: bool = True, seed: int = 0) -> None:
        self.n_features = n_features
        self.alternate_sign = alternate_sign
        self.seed = seed
        self._hasher = _FeatureHasher(n_features, alternate_sign=alternate_sign, seed=seed)
        # The Rust method itself, see FeatureHasher.
        self.transform_one = self._hasher.transform_one  # type: ignore[method-assign]

    def transform_one(self, x: dict[Any, Any]) -> dict[int, float]:  # type: ignore[override]
        return self._hasher.transform_one(x)

    def __getstate__(self) -> dict[str, Any]:
        return {"n_features": self.n_features, "alternate_sign": self.alternate_sign, "seed": self.seed}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]


class HashingVectorizer(base.Transformer):
    """Text to hashed token counts as a River transformer: ``transform_one`` of
    :class:`sketchy.HashingVectorizer`, the row scikit-learn's ``HashingVectorizer`` gives a document.

    ``x`` is a document (str or bytes); the parameters are scikit-learn's (``input`` is always
    ``"content"`` and the values are floats).

    Examples
    --------
    >>> from river import linear_model
    >>> from sketchy.river import HashingVectorizer
    >>> model = HashingVectorizer(n_features=2**10) | linear_model.LogisticRegression()
    >>> for text, spam in [("win a free prize", True), ("lunch at noon", False)] * 20:
    ...     model.learn_one(text, spam)
    >>> model.predict_one("free prize"), model.predict_one("noon lunch")
    (True, False)
    """

    def __init__(
        self,
        encoding: str = "utf-8",
        decode_error: str = "strict",
        strip_accents: Any = None,
        lowercase: bool = True,
        preprocessor: Any = None,
        tokenizer: Any = None,
        stop_words: Any = None,
        token_pattern: str | None = r"(?u)\b\w\w+\b",
        ngram_range: tuple[int, int] = (1, 1),
        analyzer: Any = "word",
        n_features: int = 2**20,
        binary: bool = False,
        norm: str | None = "l2",
        alternate_sign: bool = True,
    ) -> None:
        # River reads the parameters back from the attributes of the same names (clone, repr).
        params = {name: value for name, value in locals().items() if name != "self"}
        from sketchy.text import HashingVectorizer as _HashingVectorizer

        vars(self).update(params)
        self._vectorizer = _HashingVectorizer(**params)

    def transform_one(self, x: Any) -> dict[int, float]:  # type: ignore[override]
        return self._vectorizer.transform_one(x)


class Quantile(stats.base.Univariate):
    """A running quantile as a River statistic: ``get`` is the quantile of a :class:`sketchy.DDSketch`.

    Where River takes ``stats.Quantile`` (``feature_extraction.Agg``, ``compose`` steps, ...), but with
    a guarantee River's P² estimator does not give: the answer is within ``relative_accuracy`` of the
    true quantile (``numpy.quantile(values, q, method="lower")``) of everything seen so far, for any
    stream, in at most ``max_bins`` bins (a few KiB). NaN values are skipped (and counted by the sketch); the
    sketch refuses infinities. ``revert`` is not supported (a DDSketch only adds).

    Parameters
    ----------
    q : float, default=0.5
        The quantile, in [0, 1] (0 is the minimum, 1 the maximum).
    relative_accuracy : float, default=0.01
        The relative error of the answer, in (0, 1).
    max_bins : int, default=2048
        The most bins the sketch keeps; beyond, the lowest bins are collapsed (so the lowest
        quantiles lose their guarantee). 2,048 bins of 1% span 17 orders of magnitude (1e-8 to 1e9).

    Examples
    --------
    >>> from river import feature_extraction, stats
    >>> from sketchy.river import Quantile
    >>> median = Quantile(0.5)
    >>> median.get() is None  # nothing seen yet, as for River's own Quantile
    True
    >>> for x in range(1, 1001):
    ...     median.update(x)
    >>> abs(median.get() / 500 - 1) <= 0.01, median.name
    (True, 'quantile_0.5')
    >>> agg = feature_extraction.Agg(on="delay", by="route", how=Quantile(0.9))
    >>> for i in range(100):
    ...     agg.learn_one({"route": "A" if i % 2 else "B", "delay": i})
    >>> agg.transform_one({"route": "A"})  # the odd delays 1..99: exactly, 89
    {'delay_quantile_0.9_by_route': 89.13...}
    """

    def __init__(self, q: float = 0.5, *, relative_accuracy: float = 0.01, max_bins: int = 2048) -> None:
        from sketchy import DDSketch

        if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0 <= q <= 1:
            raise ValueError(f"q must be a number in [0, 1], got {q!r}")
        self.q: float = q
        self.relative_accuracy = relative_accuracy
        self.max_bins = max_bins
        self._sketch: DDSketch = DDSketch(relative_accuracy, max_bins=max_bins)

    def update(self, x: float) -> None:
        self._sketch.add(x)

    def get(self) -> float | None:
        if self._sketch.count == 0:
            return None  # as river.stats.Quantile before its first value
        return self._sketch.quantile(self.q)

    @property
    def name(self) -> str:
        return f"quantile_{self.q}"
