"""Writes the golden sketches: ``python tests/golden/generate.py``.

The files freeze the serialized form of every kind and state of sketch. ``cargo test`` (in
``rust/core/tests/golden.rs``) and pytest (``tests/contract/test_golden.py``) read each one, check what it holds
against ``manifest.tsv`` and write it back byte for byte. Running this script again is only right for a
deliberate, BREAKING format change (a new format version), recorded in CHANGELOG.md.

manifest.tsv has one line per fact: ``file<TAB>field<TAB>value``. Items are written as
``str:<text>``, ``bytes:<hex>``, ``int:<decimal>`` or ``float:<repr>``.
"""

from __future__ import annotations

from pathlib import Path

import datasketches
import numpy as np

from sketchy import KLL, CountMinSketch, DDSketch, HyperLogLog, TopK

HERE = Path(__file__).parent
PROBES = [
    "str:apple",
    "str:zürich",
    "bytes:00ff10",
    "int:-7",
    "int:18446744073709551615",
    "float:2.5",
    "int:3",
]


def item(spec: str):
    kind, _, text = spec.partition(":")
    return {"str": str, "bytes": bytes.fromhex, "int": int, "float": float}[kind](text)


def spec(obj) -> str:
    if isinstance(obj, str):
        return f"str:{obj}"
    if isinstance(obj, bytes):
        return f"bytes:{obj.hex()}"
    if isinstance(obj, int):
        return f"int:{obj}"
    return f"float:{obj!r}"


def stream(n: int, seed: int) -> list:
    """A skewed stream mixing every item kind."""
    rng = np.random.default_rng(seed)
    ranks = rng.zipf(1.3, n) % 900
    kinds = rng.integers(0, 4, n)
    out: list = []
    for r, k in zip(ranks.tolist(), kinds.tolist(), strict=True):
        out.append([f"w{r}", f"{r}".encode(), r - 400, r / 8][k])
    return out + [item(p) for p in PROBES]


def sketches() -> dict[str, object]:
    hll_big = HyperLogLog(12, seed=3)
    hll_big.update(np.arange(50_000, dtype=np.int64))
    merged = HyperLogLog(10, seed=5)
    merged.update(stream(3000, 1))
    merged |= HyperLogLog(12, seed=5)
    other = HyperLogLog(10, seed=5)
    other.update(np.arange(4000, dtype=np.uint64))
    merged |= other
    out: dict[str, object] = {
        "hll-p4-empty": HyperLogLog(4),
        "hll-p10-sparse": HyperLogLog(10, seed=1),
        "hll-p14-sparse": HyperLogLog(14, seed=2**64 - 1),
        "hll-p8-dense": HyperLogLog(8),
        "hll-p12-dense": hll_big,
        "hll-p18-dense": HyperLogLog(18, seed=9),
        "hll-p10-merged": merged,
        "cms-standard": CountMinSketch(width=101, depth=4, seed=7),
        "cms-conservative": CountMinSketch(width=64, depth=5, conservative=True),
        "cms-empty": CountMinSketch(width=3, depth=1, seed=2),
        "topk-str": TopK(5, capacity=16, seed=4),
        "topk-bytes": TopK(3, capacity=8),
        "topk-int": TopK(4, capacity=12, seed=1),
        "topk-float": TopK(2, capacity=6),
        "topk-mixed-exact": TopK(10, capacity=2000),
        "topk-empty": TopK(1),
    }
    out["hll-p10-sparse"].update(stream(200, 2))
    out["hll-p14-sparse"].update(stream(3000, 3))
    out["hll-p8-dense"].update(stream(3000, 4))
    out["hll-p18-dense"].update(np.arange(2_000_000, dtype=np.uint32))
    out["cms-standard"].update(stream(20_000, 5))
    out["cms-standard"].add("apple", 1000)
    out["cms-conservative"].update(stream(20_000, 6), counts=3)
    base = stream(5000, 7)
    out["topk-str"].update([x for x in base if isinstance(x, str)])
    out["topk-bytes"].update([x for x in base if isinstance(x, bytes)])
    out["topk-int"].update([x for x in base if isinstance(x, int)])
    out["topk-float"].update([x for x in base if isinstance(x, float)])
    out["topk-mixed-exact"].update(base)
    rng = np.random.default_rng(8)
    latencies = rng.lognormal(0, 2, 20_000)
    mixed = np.concatenate([-latencies[:3000], np.zeros(500), latencies[3000:], [np.nan]])
    out["dd-empty"] = DDSketch()
    out["dd-lognormal"] = DDSketch(0.01)
    out["dd-lognormal"].update(latencies)
    out["dd-mixed-collapsed"] = DDSketch(0.05, max_bins=32)
    out["dd-mixed-collapsed"].update(mixed, weights=rng.integers(0, 4, mixed.size))
    out["kll-empty"] = KLL(8)
    out["kll-single"] = KLL(200, seed=1)
    out["kll-single"].add(-2.5)
    out["kll-levels"] = KLL(200, seed=2)
    out["kll-levels"].update(mixed)
    merged = KLL(64, seed=3)
    merged.update(latencies[:7000])
    small = KLL(16, seed=4)
    small.update(rng.normal(size=5000))
    merged.merge(small)
    merged.add(7.0, 1000)
    out["kll-merged"] = merged
    out.update(datasketches_hll())
    return out


def datasketches_hll() -> dict[str, object]:
    """``HyperLogLog(hash="datasketches")`` (kind 6) in every mode: a list, a set, a sketch read from
    an HLL_4, HLL_6 and HLL_8 image that the ``datasketches`` package wrote (compact and updatable),
    and a merge of two precisions (DataSketches' union)."""
    out: dict[str, object] = {
        "dshll-empty": HyperLogLog(4, hash="datasketches"),
        "dshll-list": HyperLogLog(12, hash="datasketches"),
        "dshll-set": HyperLogLog(12, hash="datasketches"),
    }
    out["dshll-list"].update(["apple", "zürich", b"\x00\xff", -7, 2.5, 2**64 - 1])  # up to 8 coupons
    out["dshll-set"].update(stream(300, 12))
    for lg_k, (target, image) in zip(
        (10, 11, 12),
        [("HLL_4", "serialize_compact"), ("HLL_6", "serialize_updatable"), ("HLL_8", "serialize_compact")],
        strict=True,
    ):
        theirs = datasketches.hll_sketch(lg_k, getattr(datasketches.tgt_hll_type, target))
        for x in (x for x in stream(5000, 13 + lg_k) if not isinstance(x, bytes)):
            theirs.update(x)
        out[f"dshll-{target.replace('_', '').lower()}-source"] = HyperLogLog.from_datasketches(
            getattr(theirs, image)()
        )
    merged = HyperLogLog(11, hash="datasketches")
    merged.update(stream(4000, 14))
    other = HyperLogLog(9, hash="datasketches")
    other.update(np.arange(3000, dtype=np.int64))
    out["dshll-merged"] = merged | other
    return out


def facts(sketch) -> list[tuple[str, str]]:
    if isinstance(sketch, HyperLogLog):
        return [
            ("hash", sketch.hash),
            ("precision", str(sketch.precision)),
            ("seed", str(sketch.seed)),
            ("sparse", str(int(sketch.is_sparse))),
            ("estimate", repr(sketch.estimate())),
        ]
    if isinstance(sketch, CountMinSketch):
        rows = [
            ("width", str(sketch.width)),
            ("depth", str(sketch.depth)),
            ("seed", str(sketch.seed)),
            ("conservative", str(int(sketch.conservative))),
            ("total", str(sketch.total)),
        ]
        return rows + [(f"estimate {p}", str(sketch[item(p)])) for p in PROBES]
    if isinstance(sketch, DDSketch | KLL):
        if isinstance(sketch, DDSketch):
            rows = [
                ("relative_accuracy", repr(sketch.relative_accuracy)),
                ("max_bins", str(sketch.max_bins)),
                ("sum", repr(sketch.sum)),
            ]
        else:
            rows = [
                ("k", str(sketch.k)),
                ("min_k", str(sketch.min_k)),
                ("seed", str(sketch.seed)),
                ("num_retained", str(sketch.num_retained)),
            ]
        rows += [("count", str(sketch.count)), ("nan_count", str(sketch.nan_count))]
        rows += [("min", repr(sketch.min)), ("max", repr(sketch.max))]
        return rows + [(f"quantile {q}", repr(sketch.quantile(q))) for q in (0.01, 0.5, 0.99)]
    rows = [
        ("k", str(sketch.k)),
        ("capacity", str(sketch.capacity)),
        ("seed", str(sketch.seed)),
        ("total", str(sketch.total)),
        ("error_bound", str(sketch.error_bound)),
    ]
    # Every tracked item in order, with its lower bound.
    for obj, count in sketch.most_common(len(sketch)):
        rows.append(("entry " + spec(obj), str(count - sketch.error_bound)))
    return rows


def main() -> None:
    lines = []
    for name, sketch in sketches().items():
        (HERE / f"{name}.bin").write_bytes(sketch.to_bytes())
        lines += [f"{name}.bin\t{field}\t{value}" for field, value in facts(sketch)]
    (HERE / "manifest.tsv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
