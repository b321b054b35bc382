"""Text to hashed features: :class:`HashingVectorizer`, the same matrix as scikit-learn's.

The documents are decoded, lowercased and stripped of accents in Python (``bytes.decode``,
``str.lower`` and ``unicodedata``, so exactly as scikit-learn does it); tokens, n-grams, stop words,
hashing, the sparse matrix and its norm are computed in Rust, on all cores for large batches. What
a word character or a space is comes from the running interpreter's ``re`` (``\\w``, ``\\s``): Rust's
Unicode tables differ from Python's, and Python's change with its Unicode version.
"""

from __future__ import annotations

import functools
import numbers
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from sketchy import _native
from sketchy.feature_hashing import _dtype_name

#: scikit-learn's default token pattern: runs of two or more word characters.
DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"

_ANALYZERS = ("word", "char", "char_wb")
_WHITE_SPACES = re.compile(r"\s\s+")


@functools.cache
def _char_classes() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The code point ranges of ``\\w`` and ``\\s`` in this interpreter's ``re``."""
    every = "".join(map(chr, range(0x110000)))

    def ranges(pattern: str) -> list[tuple[int, int]]:
        return [m.span() for m in re.finditer(pattern, every)]

    return ranges(r"\w+"), ranges(r"\s+")


def strip_accents_unicode(s: str) -> str:
    """Drops combining characters after NFKD normalization (scikit-learn's ``strip_accents_unicode``)."""
    if s.isascii():  # no accents to strip
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def strip_accents_ascii(s: str) -> str:
    """Keeps the ASCII characters of the NFKD form (scikit-learn's ``strip_accents_ascii``)."""
    return unicodedata.normalize("NFKD", s).encode("ASCII", "ignore").decode("ASCII")


def _preprocess(doc: Any, accent_function: Callable[[str], str] | None = None, lower: bool = False) -> Any:
    if lower:
        doc = doc.lower()
    if accent_function is not None:
        doc = accent_function(doc)
    return doc


@functools.lru_cache(maxsize=64)
def _text_hashing(
    analyzer: str,
    ngram_range: tuple[int, int],
    stop_words: frozenset[str] | None,
    n_features: int,
    alternate_sign: bool,
    dtype: str,
    binary: bool,
    norm: str | None,
) -> _native.TextHashing:
    """The Rust hasher of a configuration, built once (its character tables take a millisecond)."""
    words, spaces = _char_classes()
    stop = sorted(stop_words) if stop_words is not None else None
    return _native.TextHashing(
        words, spaces, analyzer, ngram_range, stop, n_features, alternate_sign, dtype, binary, norm
    )


def _as_list(X: Iterable[Any]) -> list[Any]:
    """The documents as a list: pandas and Arrow columns of strings without a Python loop."""
    if isinstance(X, list):
        return X
    module = type(X).__module__.partition(".")[0]
    column: Any = X  # a pandas, pyarrow or polars column, or a numpy array
    if module in ("pandas", "pyarrow", "polars") and hasattr(
        column, "to_list" if module != "pyarrow" else "to_pylist"
    ):
        return list(column.to_pylist() if module == "pyarrow" else column.to_list())
    if isinstance(column, np.ndarray) and column.dtype.kind == "U":
        return list(column.tolist())
    return list(X)


class HashingVectorizer:
    """Text documents to a matrix of hashed token counts: scikit-learn's ``HashingVectorizer``, in Rust.

    The parameters, their defaults and the matrix are scikit-learn's
    (:class:`sklearn.feature_extraction.text.HashingVectorizer` of the installed version): the same
    ``indptr``, ``indices``, ``data`` and dtype, for every combination. Tokens are words of two or
    more word characters (the default ``token_pattern``), word n-grams, or character n-grams
    (``analyzer="char"`` or ``"char_wb"``); each is hashed with signed 32-bit MurmurHash3 into
    ``abs(h) % n_features``, negated when ``h < 0`` with ``alternate_sign``; then ``binary`` and the
    ``l1``/``l2`` norm, in scikit-learn's order of operations. A callable ``analyzer``,
    ``preprocessor`` or ``tokenizer`` or another ``token_pattern`` runs in Python (still exact; the
    hashing and the matrix stay in Rust).

    No vocabulary is kept: ``fit`` does nothing, and the vectorizer works on streams
    (``transform_one``) and out-of-core with ``partial_fit`` learners.

    Deviations from scikit-learn, deliberate: ``transform([])`` raises ValueError, ``n_features`` is
    checked to be in [1, 2**31 - 1], ``ngram_range`` to start at 1 or more (scikit-learn hashes empty
    n-grams for 0), and ``dtype`` is one of float64, float32, int64, int32.

    Examples
    --------
    >>> from sketchy import HashingVectorizer
    >>> vectorizer = HashingVectorizer(n_features=2**4)
    >>> X = vectorizer.transform(["The cat sat.", "The cat sat on the mat."])
    >>> X.shape, X.nnz
    ((2, 16), 7)
    >>> sorted(vectorizer.transform_one("the cat").items())
    [(7, 0.7071067811865475), (14, -0.7071067811865475)]
    """

    def __init__(
        self,
        *,
        input: str = "content",
        encoding: str = "utf-8",
        decode_error: str = "strict",
        strip_accents: str | Callable[[str], str] | None = None,
        lowercase: bool = True,
        preprocessor: Callable[[str], str] | None = None,
        tokenizer: Callable[[str], list[str]] | None = None,
        stop_words: str | list[str] | None = None,
        token_pattern: str | None = DEFAULT_TOKEN_PATTERN,
        ngram_range: tuple[int, int] = (1, 1),
        analyzer: str | Callable[[Any], list[str]] = "word",
        n_features: int = 2**20,
        binary: bool = False,
        norm: str | None = "l2",
        alternate_sign: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        self.input = input
        self.encoding = encoding
        self.decode_error = decode_error
        self.strip_accents = strip_accents
        self.lowercase = lowercase
        self.preprocessor = preprocessor
        self.tokenizer = tokenizer
        self.stop_words = stop_words
        self.token_pattern = token_pattern
        self.ngram_range = ngram_range
        self.analyzer = analyzer
        self.n_features = n_features
        self.binary = binary
        self.norm = norm
        self.alternate_sign = alternate_sign
        self.dtype = dtype

    # --- scikit-learn's building blocks -----------------------------------------------------------

    def decode(self, doc: Any) -> Any:
        """The document as a str: read (``input="file"``/``"filename"``), then decoded if bytes."""
        if self.input == "filename":
            with open(doc, "rb") as fh:
                doc = fh.read()
        elif self.input == "file":
            doc = doc.read()
        if isinstance(doc, bytes):
            doc = doc.decode(self.encoding, self.decode_error)
        if doc is np.nan:
            raise ValueError("np.nan is an invalid document, expected byte or unicode string.")
        return doc

    def build_preprocessor(self) -> Callable[[Any], Any]:
        """The function that lowercases and strips accents (or the ``preprocessor`` given)."""
        if self.preprocessor is not None:
            return self.preprocessor
        return functools.partial(_preprocess, accent_function=self._accent_function(), lower=self.lowercase)

    def _accent_function(self) -> Callable[[str], str] | None:
        """The accent stripping that ``strip_accents`` names (None: none)."""
        if not self.strip_accents:
            return None
        if callable(self.strip_accents):
            return self.strip_accents
        if self.strip_accents == "ascii":
            return strip_accents_ascii
        if self.strip_accents == "unicode":
            return strip_accents_unicode
        raise ValueError(f'Invalid value for "strip_accents": {self.strip_accents}')

    def build_tokenizer(self) -> Callable[[str], list[str]]:
        """The function that splits a document into tokens (or the ``tokenizer`` given)."""
        if self.tokenizer is not None:
            return self.tokenizer
        pattern = re.compile(str(self.token_pattern))
        if pattern.groups > 1:
            raise ValueError(
                "More than 1 capturing group in token pattern. Only a single group should be captured."
            )
        return pattern.findall

    def get_stop_words(self) -> frozenset[str] | None:
        """The stop words: scikit-learn's English list for ``"english"``, or the ones given."""
        stop = self.stop_words
        if stop == "english":
            try:
                from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
            except ImportError as err:  # the list is scikit-learn's, for its exact matrix
                raise ImportError('stop_words="english" needs scikit-learn installed') from err
            return frozenset(ENGLISH_STOP_WORDS)
        if isinstance(stop, str):
            raise ValueError(f"not a built-in stop list: {stop}")
        if stop is None:
            return None
        return frozenset(stop)

    def _check_stop_words_consistency(
        self,
        stop_words: frozenset[str] | None,
        preprocess: Callable[[Any], Any],
        tokenize: Callable[[str], list[str]],
    ) -> bool | str | None:
        """Warns once per stop list when tokenizing the stop words gives tokens not in it (as
        scikit-learn does): True if consistent, False if not, None if already checked, "error" if the
        check could not run."""
        if id(self.stop_words) == getattr(self, "_stop_words_id", None):
            return None
        try:
            inconsistent = set()
            for w in stop_words or ():
                for token in tokenize(preprocess(w)):
                    if token not in stop_words:  # type: ignore[operator]
                        inconsistent.add(token)
            self._stop_words_id = id(self.stop_words)
            if inconsistent:
                warnings.warn(
                    "Your stop_words may be inconsistent with your preprocessing. Tokenizing the stop "
                    f"words generated tokens {sorted(inconsistent)!r} not in stop_words.",
                    stacklevel=3,
                )
            return not inconsistent
        except Exception:  # a custom preprocessor or tokenizer that fails on the stop words
            self._stop_words_id = id(self.stop_words)
            return "error"

    def _warn_for_unused_params(self) -> None:
        if self.tokenizer is not None and self.token_pattern is not None:
            warnings.warn(
                "The parameter 'token_pattern' will not be used since 'tokenizer' is not None'", stacklevel=3
            )
        if self.preprocessor is not None and callable(self.analyzer):
            warnings.warn(
                "The parameter 'preprocessor' will not be used since 'analyzer' is callable'", stacklevel=3
            )
        if self.ngram_range != (1, 1) and self.ngram_range is not None and callable(self.analyzer):
            warnings.warn(
                "The parameter 'ngram_range' will not be used since 'analyzer' is callable'", stacklevel=3
            )
        if self.analyzer != "word" or callable(self.analyzer):
            if self.stop_words is not None:
                warnings.warn(
                    "The parameter 'stop_words' will not be used since 'analyzer' != 'word'", stacklevel=3
                )
            if self.token_pattern is not None and self.token_pattern != DEFAULT_TOKEN_PATTERN:
                warnings.warn(
                    "The parameter 'token_pattern' will not be used since 'analyzer' != 'word'", stacklevel=3
                )
            if self.tokenizer is not None:
                warnings.warn(
                    "The parameter 'tokenizer' will not be used since 'analyzer' != 'word'", stacklevel=3
                )

    def _word_ngrams(self, tokens: list[str], stop_words: frozenset[str] | None = None) -> list[str]:
        if stop_words is not None:
            tokens = [w for w in tokens if w not in stop_words]
        min_n, max_n = self.ngram_range
        if max_n != 1:
            original = tokens
            if min_n == 1:
                tokens = list(original)
                min_n += 1
            else:
                tokens = []
            for n in range(min_n, min(max_n + 1, len(original) + 1)):
                for i in range(len(original) - n + 1):
                    tokens.append(" ".join(original[i : i + n]))
        return tokens

    def _char_ngrams(self, text: str) -> list[str]:
        text = _WHITE_SPACES.sub(" ", text)
        min_n, max_n = self.ngram_range
        if min_n == 1:
            grams = list(text)
            min_n += 1
        else:
            grams = []
        for n in range(min_n, min(max_n + 1, len(text) + 1)):
            for i in range(len(text) - n + 1):
                grams.append(text[i : i + n])
        return grams

    def _char_wb_ngrams(self, text: str) -> list[str]:
        text = _WHITE_SPACES.sub(" ", text)
        min_n, max_n = self.ngram_range
        grams = []
        for w in text.split():
            w = " " + w + " "
            for n in range(min_n, max_n + 1):
                offset = 0
                grams.append(w[offset : offset + n])
                while offset + n < len(w):
                    offset += 1
                    grams.append(w[offset : offset + n])
                if offset == 0:  # a word shorter than n counts once
                    break
        return grams

    def build_analyzer(self) -> Callable[[Any], list[str]]:
        """The function from a raw document to its tokens: decoding, preprocessing, tokens, n-grams."""
        decode = self.decode
        if callable(self.analyzer):
            analyzer = self.analyzer
            return lambda doc: analyzer(decode(doc))
        preprocess = self.build_preprocessor()
        if self.analyzer == "char":
            return lambda doc: self._char_ngrams(preprocess(decode(doc)))
        if self.analyzer == "char_wb":
            return lambda doc: self._char_wb_ngrams(preprocess(decode(doc)))
        if self.analyzer == "word":
            stop_words = self.get_stop_words()
            tokenize = self.build_tokenizer()
            self._check_stop_words_consistency(stop_words, preprocess, tokenize)
            return lambda doc: self._word_ngrams(tokenize(preprocess(decode(doc))), stop_words)
        raise ValueError(f"{self.analyzer} is not a valid tokenization scheme/analyzer")

    # --- the Rust half ----------------------------------------------------------------------------

    def _check(self) -> None:
        n = self.n_features
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 1 <= n <= 2**31 - 1:
            raise ValueError(f"n_features must be an int in [1, 2**31 - 1], got {n!r}")
        min_n, max_n = self.ngram_range
        if not (isinstance(min_n, numbers.Integral) and isinstance(max_n, numbers.Integral) and min_n >= 1):
            raise ValueError(
                f"ngram_range must be (min_n, max_n) with 1 <= min_n <= max_n, got {self.ngram_range!r}"
            )
        if min_n > max_n:
            raise ValueError(
                f"Invalid value for ngram_range={self.ngram_range} lower boundary larger than the upper boundary."
            )
        if self.norm not in (None, "l1", "l2"):
            raise ValueError(f"norm must be 'l1', 'l2' or None, got {self.norm!r}")

    def _hashing(
        self, analyzer: str = "word", stop_words: frozenset[str] | None = None
    ) -> _native.TextHashing:
        return _text_hashing(
            analyzer,
            (int(self.ngram_range[0]), int(self.ngram_range[1])),
            stop_words,
            int(self.n_features),
            bool(self.alternate_sign),
            _dtype_name(self.dtype),
            bool(self.binary),
            self.norm,
        )

    def _native_route(self) -> tuple[_native.TextHashing, Callable[[Iterable[Any]], list[Any]]] | None:
        """(the Rust hasher, the Python preprocessing) when the tokens can be made in Rust."""
        if not isinstance(self.analyzer, str) or self.analyzer not in _ANALYZERS:
            return None
        stop_words = None
        if self.analyzer == "word":
            if self.tokenizer is not None or self.token_pattern != DEFAULT_TOKEN_PATTERN:
                return None
            stop_words = self.get_stop_words()
            if stop_words is not None:
                self._check_stop_words_consistency(
                    stop_words, self.build_preprocessor(), self.build_tokenizer()
                )
        return self._hashing(self.analyzer, stop_words), self._prepare_all

    def _prepare_all(self, X: Iterable[Any]) -> list[Any]:
        """The documents decoded and preprocessed, as the analyzer would before its tokens."""
        docs = _as_list(X)
        if self.input == "content" and self.preprocessor is None and set(map(type, docs)) <= {str}:
            # The usual case: no Python-level call per document, only str.lower's.
            strip = self._accent_function()
            if self.lowercase:
                docs = list(map(str.lower, docs))
            return list(map(strip, docs)) if strip is not None else docs
        preprocess, decode = self.build_preprocessor(), self.decode
        return [preprocess(decode(doc)) for doc in docs]

    def transform(self, X: Iterable[Any]) -> Any:
        """The ``scipy.sparse.csr_matrix`` of hashed token counts, shape (n_documents, n_features)."""
        import scipy.sparse as sp

        if isinstance(X, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        self._check()
        route = self._native_route()
        arrays = None
        if route is not None:
            hashing, prepare = route
            docs = prepare(X)
            try:
                arrays = hashing.transform(docs)
            except (TypeError, UnicodeEncodeError):
                # A document that is not text, or has a lone surrogate: the Python steps raise what
                # scikit-learn raises, or hash the surrogates as it does.
                arrays = self._hash_in_rust(self._tokens_of_prepared(docs))
        elif isinstance(self.analyzer, str) and self.analyzer == "word":
            # A custom token pattern or tokenizer: its tokens in Python, the rest in Rust.
            arrays = self._hash_in_rust(self._tokens_of_prepared(self._prepare_all(X)))
        else:
            analyzer = self.build_analyzer()
            arrays = self._hash_in_rust([analyzer(doc) for doc in X])
        indptr, indices, data = arrays
        if len(indptr) == 1:
            raise ValueError("Cannot vectorize empty sequence.")
        matrix = sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, self.n_features), copy=False)
        matrix.has_canonical_format = True
        return matrix

    def _tokens_of_prepared(self, docs: list[Any]) -> list[list[str]]:
        """The tokens of decoded, preprocessed documents, by the Python analyzer's later steps."""
        if self.analyzer == "char":
            return [self._char_ngrams(doc) for doc in docs]
        if self.analyzer == "char_wb":
            return [self._char_wb_ngrams(doc) for doc in docs]
        tokenize, stop_words = self.build_tokenizer(), self.get_stop_words()
        if stop_words is None and tuple(self.ngram_range) == (1, 1):
            return [tokenize(doc) for doc in docs]  # what _word_ngrams would give back
        return [self._word_ngrams(tokenize(doc), stop_words) for doc in docs]

    def _hash_in_rust(self, tokens: Iterable[Iterable[str]]) -> tuple[Any, Any, Any]:
        """Token lists hashed and summed in Rust (as ``FeatureHasher(input_type="string")``), then
        ``binary``, the norm and the dtype."""
        return self._hashing().transform_tokens(tokens)

    def transform_one(self, doc: Any) -> dict[int, float]:
        """One document's row of ``transform([doc])`` as ``{column: value}``, for streams."""
        self._check()
        route = self._native_route()
        if route is not None:
            hashing, prepare = route
            [prepared] = prepare([doc])
            if isinstance(prepared, str):
                try:
                    return hashing.transform_one(prepared)
                except UnicodeEncodeError:
                    pass
        row = self.transform([doc])
        return dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))

    def fit(self, X: Any = None, y: Any = None) -> HashingVectorizer:
        """Checks the parameters; there is nothing to learn. Returns ``self``."""
        if isinstance(X, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        self._warn_for_unused_params()
        self._check()
        return self

    def partial_fit(self, X: Any = None, y: Any = None) -> HashingVectorizer:
        """Does nothing (the vectorizer is stateless) and returns ``self``."""
        return self

    def fit_transform(self, X: Iterable[Any], y: Any = None) -> Any:
        """``transform(X)``: there is nothing to fit."""
        return self.fit(X, y).transform(X)

    # --- parameters -------------------------------------------------------------------------------

    _PARAMS = (
        "input", "encoding", "decode_error", "strip_accents", "lowercase", "preprocessor", "tokenizer",
        "stop_words", "token_pattern", "ngram_range", "analyzer", "n_features", "binary", "norm",
        "alternate_sign", "dtype",
    )  # fmt: skip

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, as scikit-learn's ``BaseEstimator.get_params``."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> HashingVectorizer:
        """Sets constructor parameters, as scikit-learn's ``BaseEstimator.set_params``."""
        for name, value in params.items():
            if name not in self._PARAMS:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {self!r}. "
                    f"Valid parameters are: {sorted(self._PARAMS)!r}."
                )
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        tags = Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(),
            input_tags=InputTags(two_d_array=False, string=True),
        )
        tags.requires_fit = False
        return tags

    def __repr__(self) -> str:
        defaults = HashingVectorizer().get_params()
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if v is not defaults[k] and v != defaults[k]
        ]
        return f"HashingVectorizer({', '.join(changed)})"
