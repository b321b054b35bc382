"""Type stubs of the compiled extension ``sketchy._native`` (checked by ``mypy.stubtest``)."""

from collections.abc import Iterable
from typing import Any, Final, TypeAlias, final

import numpy as np
import numpy.typing as npt

_Item: TypeAlias = str | bytes | bytearray | memoryview | int | float
_Keys: TypeAlias = Iterable[Any] | npt.NDArray[Any]

__all__ = [
    "ALGORITHMS",
    "FeatureHashing",
    "hash_many",
    "murmur3_32",
    "murmur3_128",
    "xxh3_64",
    "xxh3_128",
    "xxh32",
    "xxh64",
]

ALGORITHMS: Final[list[str]]

def murmur3_32(key: _Item, seed: int = 0, *, signed: bool = True) -> int: ...
def murmur3_128(key: _Item, seed: int = 0, *, signed: bool = False) -> int: ...
def xxh32(key: _Item, seed: int = 0) -> int: ...
def xxh64(key: _Item, seed: int = 0) -> int: ...
def xxh3_64(key: _Item, seed: int = 0) -> int: ...
def xxh3_128(key: _Item, seed: int = 0) -> int: ...
def hash_many(
    keys: _Keys, algorithm: str = "xxh3_64", seed: int = 0
) -> npt.NDArray[np.uint64] | npt.NDArray[np.uint32]: ...

@final
class FeatureHashing:
    def __new__(
        cls, n_features: int, input_type: str, dtype: str, alternate_sign: bool, seed: int
    ) -> FeatureHashing: ...
    def transform(
        self, rows: Iterable[Any]
    ) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any], bool]: ...
    def transform_one(self, x: Any) -> dict[int, Any]: ...
