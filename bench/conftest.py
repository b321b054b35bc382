"""Shared data for the benchmarks: generated once per session, seeded."""

from __future__ import annotations

import numpy as np
import pytest

N = 1_000_000


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
def call_each():
    """``call_each(f, items)``: ``f(x)`` for every item, the loop a one-item-per-call API needs."""

    def run(function, items) -> None:
        for x in items:
            function(x)

    return run
