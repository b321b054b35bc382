"""``sketchy.HashingVectorizer`` against scikit-learn's, matrix for matrix (indptr, indices, data bytes,
dtypes and shape), over a grid of configurations and adversarial text; the tokenizer's character
classes against Python's ``re`` on every code point."""

from __future__ import annotations

import pickle
import random
import re

import numpy as np
import pytest

sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
SK = sklearn_text.HashingVectorizer

from sketchy import HashingVectorizer  # noqa: E402

ADVERSARIAL = [
    *"abcxyzAZ09_", "é", "e\u0301", "ß", "İ", "ı", "Σ", "ς", "ǅ", "ﬁ", "²", "①", "½", "٣",
    "\u0301", "\u200d", "\u200c", "\u203f", "\u001c", "\u001d", "\u001e", "\u001f", "\u00a0", "\u3000",
    "\u2028", "\u0085", "\ufeff", "𝔘", "😀", "\U000e0001", "\U0010fffd", "\u0378", " ", "\t", "\n",
    "\r", ".", ",", "-", "'", '"', "the", "and", "ΣΑΣ", "22pcs efuture", "NFC", "Å", "A\u030a",
]  # fmt: skip


def corpus(seed: int, n: int = 400) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ADVERSARIAL) for _ in range(rng.randrange(0, 40))) for _ in range(n)]


def assert_same(a, b) -> None:
    assert type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
    assert a.indptr.dtype == b.indptr.dtype and a.indices.dtype == b.indices.dtype
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert a.data.tobytes() == b.data.tobytes()


CONFIGS = [
    {},
    {"ngram_range": (1, 2)},
    {"ngram_range": (2, 3)},
    {"analyzer": "char", "ngram_range": (2, 5)},
    {"analyzer": "char", "ngram_range": (1, 1)},
    {"analyzer": "char_wb", "ngram_range": (2, 4)},
    {"analyzer": "char_wb", "ngram_range": (1, 6), "dtype": np.float32, "norm": "l1"},
    {"lowercase": False},
    {"strip_accents": "ascii"},
    {"strip_accents": "unicode", "analyzer": "char_wb", "ngram_range": (1, 3)},
    {"stop_words": "english", "ngram_range": (1, 2)},
    {"stop_words": ["the", "and", "ab"]},
    {"binary": True},
    {"binary": True, "norm": None, "dtype": np.int32},
    {"norm": "l1"},
    {"norm": None},
    {"alternate_sign": False},
    {"dtype": np.float32},
    {"dtype": np.int64, "norm": None},
    {"dtype": np.int64},
    {"n_features": 1},
    {"n_features": 7, "ngram_range": (1, 3)},
    {"n_features": 2**31 - 1},
    {"token_pattern": r"\b\w+\b"},
    {"token_pattern": r"(?u)\b(\w)\w*\b"},
    {"tokenizer": str.split, "token_pattern": None},
    {"analyzer": lambda doc: doc.split("a")},
    {"preprocessor": lambda doc: doc.upper()},
    {"strip_accents": lambda doc: doc.replace("e", "E")},
]


@pytest.mark.parametrize("config", CONFIGS, ids=[repr(c) for c in CONFIGS])
def test_the_matrix_is_scikit_learns(config):
    for seed in range(3):
        docs = corpus(seed)
        assert_same(HashingVectorizer(**config).transform(docs), SK(**config).transform(docs))


def test_the_bigram_whose_hash_is_minus_two_to_the_31():
    for n in (1, 7, 2**20, 2**31 - 1):
        for sign in (True, False):
            config = {"ngram_range": (2, 2), "n_features": n, "alternate_sign": sign, "norm": None}
            docs = ["22pcs efuture", "x 22pcs efuture 22pcs efuture"]
            assert_same(HashingVectorizer(**config).transform(docs), SK(**config).transform(docs))


@pytest.mark.parametrize("decode_error", ["strict", "ignore", "replace"])
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_bytes_are_decoded_as_scikit_learn_decodes_them(decode_error, encoding):
    docs = [b"caf\xc3\xa9 ok", b"bad \xff\xfe bytes", "already text", b"\xe2\x82", b""]
    ours, theirs = (
        HashingVectorizer(encoding=encoding, decode_error=decode_error),
        SK(encoding=encoding, decode_error=decode_error),
    )
    try:
        want = theirs.transform(docs)
    except UnicodeDecodeError:
        with pytest.raises(UnicodeDecodeError):
            ours.transform(docs)
        return
    assert_same(ours.transform(docs), want)


def test_lone_surrogates_are_handled_as_scikit_learn_handles_them():
    docs = ["ok \ud800 text", "x\udfffy"]
    for config in ({}, {"analyzer": "char", "ngram_range": (1, 2)}):
        try:
            want = SK(**config).transform(docs)
        except UnicodeEncodeError:
            with pytest.raises(UnicodeEncodeError):
                HashingVectorizer(**config).transform(docs)
            continue
        assert_same(HashingVectorizer(**config).transform(docs), want)


def test_inputs_files_and_filenames(tmp_path):
    paths = []
    for i, text in enumerate(["first doc text", "second doc, more text", "é ü"]):
        path = tmp_path / f"{i}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    assert_same(HashingVectorizer(input="filename").transform(paths), SK(input="filename").transform(paths))
    ours = HashingVectorizer(input="file").transform([open(p, "rb") for p in paths])
    assert_same(ours, SK(input="file").transform([open(p, "rb") for p in paths]))


def test_other_containers_and_generators():
    docs = corpus(9, 100)
    want = SK().transform(docs)
    assert_same(HashingVectorizer().transform(iter(docs)), want)
    assert_same(HashingVectorizer().transform(np.array(docs, dtype=object)), want)
    assert_same(HashingVectorizer().transform(np.array(docs)), SK().transform(np.array(docs)))


def test_bad_input():
    with pytest.raises(ValueError, match="string object received"):
        HashingVectorizer().transform("a document")
    with pytest.raises(ValueError, match=r"np\.nan is an invalid document"):
        HashingVectorizer().transform(["ok", np.nan])
    with pytest.raises(ValueError, match="empty sequence"):
        HashingVectorizer().transform([])
    for n in (0, -1, 2**31, 1.5, True):
        with pytest.raises(ValueError, match="n_features"):
            HashingVectorizer(n_features=n).transform(["a b"])
    with pytest.raises(ValueError, match="ngram_range"):
        HashingVectorizer(ngram_range=(2, 1)).transform(["a b"])
    for bad in ((0, 1), (-1, 2), (1.5, 2)):
        with pytest.raises(ValueError, match="ngram_range"):
            HashingVectorizer(ngram_range=bad).transform(["a b"])
    with pytest.raises(ValueError, match="not a built-in stop list"):
        HashingVectorizer(stop_words="french").transform(["a b"])
    with pytest.raises(ValueError, match="capturing group"):
        HashingVectorizer(token_pattern=r"(a)(b)").transform(["ab"])
    with pytest.raises(AttributeError):
        HashingVectorizer().transform([12])  # what scikit-learn raises too


def test_transform_one_is_the_row_of_transform():
    for config in ({}, {"analyzer": "char_wb", "ngram_range": (2, 4)}, {"tokenizer": str.split}):
        vectorizer = HashingVectorizer(**config)
        for doc in corpus(4, 50):
            row = vectorizer.transform([doc])
            assert vectorizer.transform_one(doc) == dict(
                zip(row.indices.tolist(), row.data.tolist(), strict=True)
            )


def test_scikit_learn_api():
    from sklearn.base import clone
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    vectorizer = HashingVectorizer(ngram_range=(1, 2), n_features=2**18)
    assert (
        clone(vectorizer).get_params()
        == vectorizer.get_params()
        == SK(ngram_range=(1, 2), n_features=2**18).get_params() | {}
    )
    assert pickle.loads(pickle.dumps(vectorizer)).get_params() == vectorizer.get_params()
    docs = ["spam spam offer win", "meeting at noon", "win a prize now", "lunch at noon?"] * 10
    labels = [1, 0, 1, 0] * 10
    model = make_pipeline(HashingVectorizer(), SGDClassifier(random_state=0)).fit(docs, labels)
    assert list(model.predict(["win spam", "noon meeting"])) == [1, 0]
    assert vectorizer.set_params(binary=True).binary is True
    with pytest.raises(ValueError, match="Invalid parameter"):
        vectorizer.set_params(nope=1)
    assert vectorizer.fit(docs) is vectorizer and vectorizer.partial_fit(docs) is vectorizer


def test_character_classes_are_pythons_on_every_code_point():
    """Every code point between two letters: one token of three when ``\\w`` joins them, none
    otherwise; and for spaces, one word or two in ``char_wb``."""
    points = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    word = re.compile(r"\w")
    docs = ["a" + chr(c) + "a" for c in points]
    X = HashingVectorizer(lowercase=False, norm=None, alternate_sign=False).transform(docs)
    got = np.diff(X.indptr) > 0
    want = np.array([word.match(chr(c)) is not None for c in points])
    assert np.array_equal(got, want), [hex(points[i]) for i in np.flatnonzero(got != want)[:10]]
    space = re.compile(r"\s")
    docs = ["ab" + chr(c) + "cd" for c in points]
    wb = HashingVectorizer(
        analyzer="char_wb", ngram_range=(1, 1), lowercase=False, norm=None, alternate_sign=False
    )
    total = np.asarray(wb.transform(docs).sum(axis=1)).ravel()
    assert np.array_equal(total == 8, np.array([space.match(chr(c)) is not None for c in points]))


def test_river_step_learns_a_text_stream():
    pytest.importorskip("river")
    from river import compose, linear_model, metrics, optim

    from sketchy.river import HashingVectorizer as RiverHashing

    # SMSSpam is downloaded, not bundled with River: a seeded corpus of two kinds of messages.
    rng = random.Random(5)
    spam = ["win", "free", "prize", "cash", "claim", "offer", "urgent", "txt", "now", "£1000"]
    ham = ["lunch", "meeting", "tomorrow", "mum", "home", "later", "thanks", "see", "you", "ok"]
    common = ["the", "a", "to", "is", "and", "I", "for", "call"]
    stream = []
    for _ in range(2000):
        is_spam = rng.random() < 0.3
        words = rng.choices(spam if is_spam else ham, k=rng.randrange(3, 8)) + rng.choices(common, k=3)
        rng.shuffle(words)
        stream.append((" ".join(words), is_spam))
    learner = linear_model.LogisticRegression(optimizer=optim.SGD(0.5))
    model = RiverHashing(n_features=2**12, ngram_range=(1, 2)) | learner
    assert isinstance(model, compose.Pipeline)
    accuracy = metrics.Accuracy()
    for text, label in stream:
        accuracy.update(label, model.predict_one(text))
        model.learn_one(text, label)
    assert accuracy.get() > 0.95
    step = RiverHashing(n_features=2**12)
    assert step.transform_one(stream[0][0]) == HashingVectorizer(n_features=2**12).transform_one(stream[0][0])
    assert step.clone().n_features == 2**12


def test_threads_share_a_vectorizer_and_the_matrix_does_not_depend_on_them():
    import os
    import subprocess
    import sys
    import threading

    docs = corpus(11, 3000)
    vectorizer = HashingVectorizer(ngram_range=(1, 2))
    want = vectorizer.transform(docs)
    results = []

    def work():
        for _ in range(3):
            results.append(vectorizer.transform(docs))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12
    for got in results:
        assert_same(got, want)
    code = (
        "import sys, random, sketchy; rng = random.Random(2); "
        "docs = [' '.join(rng.choice(['ab', 'cd', 'é', 'x1', '²']) for _ in range(30)) for _ in range(5000)]; "
        "X = sketchy.HashingVectorizer(analyzer='char_wb', ngram_range=(2, 4)).transform(docs); "
        "sys.stdout.buffer.write(X.indptr.tobytes() + X.indices.tobytes() + X.data.tobytes())"
    )
    outputs = set()
    for n in ("1", "2", "8"):
        env = {**os.environ, "SKETCHY_NUM_THREADS": n}
        outputs.add(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, check=True, cwd="/"
            ).stdout
        )
    assert len(outputs) == 1
