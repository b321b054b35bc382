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
