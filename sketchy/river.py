"""sketchy's feature hasher as a River transformer (``river`` must be installed).

River plans a pipeline from the types of its steps, so a step must be a real
:class:`river.base.Transformer`; this module defines one around :class:`sketchy.FeatureHasher`.
Importing ``sketchy`` does not import River; importing ``sketchy.river`` does.
"""

from __future__ import annotations

from typing import Any

from river import base

from sketchy.feature_hashing import FeatureHasher as _FeatureHasher


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
        self.transform_one = self._hasher.transform_one  # the Rust method itself, see FeatureHasher

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
