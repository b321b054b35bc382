"""Shared data for the benchmarks: generated once per session, seeded."""

from __future__ import annotations

import os
import re
import sysconfig
from pathlib import Path

# numpy's OpenBLAS thread pool, which no benchmark uses, otherwise keeps threads spinning on a 2-core
# machine and takes time from whichever case runs next (up to a tenth of the samples in `perf`).
# Set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest

N = 1_000_000
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


@pytest.fixture(scope="session")
def short_str_keys(rng) -> list[str]:
    """1,000,000 distinct 16-character ASCII keys, like user ids."""
    return [f"user-{i:011x}" for i in rng.choice(2**44, size=N, replace=False).tolist()]


@pytest.fixture(scope="session")
def uint64_keys(rng) -> np.ndarray:
    return rng.integers(0, 2**64 - 1, size=N, dtype=np.uint64, endpoint=True)


@pytest.fixture(scope="session")
def int32_keys(rng) -> np.ndarray:
    return rng.integers(-(2**31), 2**31 - 1, size=N, dtype=np.int32, endpoint=True)


@pytest.fixture(scope="session")
def observations() -> list[dict]:
    """100,000 click-log dicts of 10 features: 4 categorical (Zipf, up to 100k distinct values each)
    and 6 numeric (4 floats, 2 ints)."""
    rng = np.random.default_rng(7)
    n = 100_000
    cats = [(rng.zipf(1.2, n) % 100_000).tolist() for _ in range(4)]
    floats = rng.normal(size=(4, n)).tolist()
    ints = rng.integers(0, 100, size=(2, n)).tolist()
    return [
        {
            "user": f"u{cats[0][i]}",
            "city": f"c{cats[1][i]}",
            "device": f"d{cats[2][i]}",
            "page": f"p{cats[3][i]}",
            "temp": floats[0][i],
            "humidity": floats[1][i],
            "price": floats[2][i],
            "score": floats[3][i],
            "clicks": ints[0][i],
            "age": ints[1][i],
        }
        for i in range(n)
    ]


@pytest.fixture(scope="session")
def int64_keys(rng) -> np.ndarray:
    """1,000,000 int64 items, Zipf-distributed (a=1.2) over a million values."""
    return (rng.zipf(1.2, N) % 1_000_000).astype(np.int64)


@pytest.fixture(scope="session")
def zipf_str_keys(int64_keys) -> list[str]:
    """The same 1,000,000 Zipf items as short str."""
    return [f"item-{v}" for v in int64_keys.tolist()]


@pytest.fixture(scope="session")
def identifier_tokens() -> list[str]:
    """1,000,000 identifier tokens of the Python standard library's ``.py`` files, in file order.

    Real text: short (about 5 bytes on average), Zipf-like (``self``, ``the``, ``if``... come first),
    some 40k distinct. The files are read in sorted order (``site-packages`` left out), so the tokens
    are the same on every run of one Python version.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        (p for p in root.rglob("*.py") if "site-packages" not in p.relative_to(root).parts),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    tokens: list[str] = []
    for path in files:
        tokens += IDENTIFIER.findall(path.read_text(encoding="utf-8", errors="replace"))
        if len(tokens) >= N:
            break
    if not tokens:
        raise RuntimeError(f"no .py files under {root}")
    while len(tokens) < N:
        tokens += tokens[: N - len(tokens)]
    return tokens[:N]


@pytest.fixture(scope="session")
def identifier_arrow(identifier_tokens):
    """``identifier_tokens`` as one contiguous Arrow ``string`` array without nulls."""
    pa = pytest.importorskip("pyarrow")
    return pa.array(identifier_tokens, type=pa.string())


def zipf_int64(n: int, seed: int) -> np.ndarray:
    """``n`` int64 items, Zipf-distributed (a=1.2) over ten million values (about 9% distinct at 10M)."""
    return (np.random.default_rng(seed).zipf(1.2, n) % 10_000_000).astype(np.int64)


@pytest.fixture(scope="session")
def int64_10m() -> np.ndarray:
    """10,000,000 Zipf int64 items (some 880k distinct)."""
    return zipf_int64(10 * N, seed=20261124)


@pytest.fixture(scope="session")
def int64_10m_arrow(int64_10m):
    """``int64_10m`` as an Arrow ``int64`` array over the same buffer (no copy)."""
    pa = pytest.importorskip("pyarrow")
    return pa.array(int64_10m)


@pytest.fixture(scope="module")
def int64_30m() -> np.ndarray:
    """30,000,000 Zipf int64 items (240 MB, freed after the module that asks for them)."""
    return zipf_int64(30 * N, seed=20261125)


@pytest.fixture(scope="session")
def call_each():
    """``call_each(f, items)``: ``f(x)`` for every item, the loop a one-item-per-call API needs."""

    def run(function, items) -> None:
        for x in items:
            function(x)

    return run
