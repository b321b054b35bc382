"""Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/seed-*).

Seeds are real inputs of each parser: sketchy's golden files, images written by the `datasketches`
package (which we did not write), and small CSV / JSON-lines / text files. Run with the test extra
installed: ``python fuzz/seeds.py``. The fuzzer adds the inputs it finds to the same folders.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import datasketches as ds

import sketchy

ROOT = Path(__file__).resolve().parent
GOLDEN = ROOT.parent / "tests" / "golden"


def write(target: str, name: str, data: bytes) -> None:
    folder = ROOT / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(data)


def main() -> None:
    # Every serialized sketch goes through the one `from_bytes` target (the registry's dispatch).
    for path in sorted(GOLDEN.glob("*.bin")):
        write("from_bytes", path.stem, path.read_bytes())

    rng = random.Random(16)
    for n in [0, 3, 40, 3000]:
        h = sketchy.HyperLogLog(10, hash="datasketches")
        h.update([f"item-{rng.random()}" for _ in range(n)])
        write("from_bytes", f"ds-{n}", h.to_bytes())

    for lg_k in [4, 8, 11]:
        for n in [0, 1, 7, 100, 5000]:
            for tgt in [ds.tgt_hll_type.HLL_4, ds.tgt_hll_type.HLL_6, ds.tgt_hll_type.HLL_8]:
                s = ds.hll_sketch(lg_k, tgt)
                for _ in range(n):
                    s.update(rng.random())
                name = f"lg{lg_k}-n{n}-{tgt.name}"
                write("hll_from_datasketches", f"{name}-compact", s.serialize_compact())
                write("hll_from_datasketches", f"{name}-updatable", s.serialize_updatable())

    for k in [8, 200]:
        for n in [0, 1, 9, 1000]:
            s = ds.kll_doubles_sketch(k)
            for _ in range(n):
                s.update(rng.lognormvariate(0, 2))
            write("kll_from_datasketches", f"k{k}-n{n}", s.serialize())

    for lg in [3, 6]:
        for n in [0, 5, 400]:
            fs = ds.frequent_strings_sketch(lg)
            fi = ds.frequent_items_sketch(lg)
            for _ in range(n):
                v = int(rng.paretovariate(1.2))
                fs.update(f"w{v}", rng.randint(1, 3))
                fi.update(v)
            write("topk_from_datasketches", f"str-lg{lg}-n{n}", fs.serialize())
            write("topk_from_datasketches", f"long-lg{lg}-n{n}", fi.serialize(ds.PyLongsSerDe()))

    # The reader: the first byte picks the format (see src/lib.rs), the rest is the file.
    texts = {
        0: b"a\nb\r\nccc\n\n\xff\xfe\nlast",
        1: b'x,y\n1,2\n"q,""u""",3\r\n"multi\nline",4\n,5\n',
        2: b'a;b\n1;2.5\n3;"x;y"\n4\n',
        3: b"a\tb\tc\n1\t2\t3\n4\t5\n",
        4: b'{"a": "x"}\n{"a": 1.5e3}\n{"b": 1}\n[1]\n{"a": {"c": null}}\n{"a": true}\nnot json\n',
        5: b'{"a": [0, "y"]}\n{"a": [1]}\n{"a": [0, 2, 3], "a": [0, 7]}\n',
    }
    for pick, text in texts.items():
        write("reader", f"fmt{pick}", bytes([pick]) + text)
        write("reader", f"fmt{pick}-strict", bytes([pick | 0x40]) + text)
        write("reader", f"fmt{pick}-short", bytes([pick | 0x80]) + text * 3)
        write("reader", f"fmt{pick}-gzip", bytes([pick]) + gzip.compress(text, mtime=0))


if __name__ == "__main__":
    main()
