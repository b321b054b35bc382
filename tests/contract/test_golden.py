"""The golden sketches of tests/golden (also read by ``cargo test``): the serialized form is frozen.

Each file must read back to what manifest.tsv lists and serialize to the same bytes, through
``from_bytes`` and through pickle. A failure is a change of the format: BREAKING, never an accident.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from pathlib import Path

import pytest
from sketches import SKETCHES

from sketchy import TopK

GOLDEN = Path(__file__).parents[1] / "golden"
# The class that reads each kind byte (byte 5 of the header), from the registry's entries.
CLASSES = {entry.make().to_bytes()[5]: entry.cls for entry in SKETCHES.values()}


def item(spec: str):
    kind, _, text = spec.partition(":")
    return {"str": str, "bytes": bytes.fromhex, "int": int, "float": float}[kind](text)


def manifest() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for line in (GOLDEN / "manifest.tsv").read_text().splitlines():
        file, field, value = line.split("\t", 2)
        out[file].append((field, value))
    return dict(out)


MANIFEST = manifest()


def test_every_file_is_listed_and_every_kind_and_state_is_there():
    assert sorted(MANIFEST) == sorted(p.name for p in GOLDEN.glob("*.bin"))
    # Every kind of sketch of the registry has its golden files.
    assert set(CLASSES) <= {(GOLDEN / f).read_bytes()[5] for f in MANIFEST}
    states = {(f.split("-")[0], dict(facts).get("sparse")) for f, facts in MANIFEST.items()}
    assert {("hll", "1"), ("hll", "0"), ("cms", None), ("topk", None)} <= states
    assert {("dd", None), ("kll", None), ("dshll", "1"), ("dshll", "0")} <= states
    # DataSketches hashing in every mode: LIST, SET, read from each register type, and a union.
    modes = ["list", "set", "hll4-source", "hll6-source", "hll8-source", "merged"]
    assert {f"dshll-{m}.bin" for m in modes} <= set(MANIFEST)
    assert any("merged" in f for f in MANIFEST) and any("conservative" in f for f in MANIFEST)
    kinds = {
        field.split()[1].split(":")[0]
        for facts in MANIFEST.values()
        for field, _ in facts
        if field.startswith("entry ")
    }
    assert kinds == {"str", "bytes", "int", "float"}


def got(sketch, field: str):
    if field == "estimate":
        return repr(sketch.estimate())
    if field.startswith("estimate "):
        return str(sketch[item(field.split(" ", 1)[1])])
    if field.startswith("quantile "):
        return repr(sketch.quantile(float(field.split(" ", 1)[1])))
    if field in ("min", "max", "sum", "relative_accuracy"):
        return repr(getattr(sketch, field))
    value = getattr(sketch, "is_sparse" if field == "sparse" else field)
    return str(int(value)) if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("file", sorted(MANIFEST))
def test_golden_sketch_reads_back_and_writes_the_same_bytes(file):
    data = (GOLDEN / file).read_bytes()
    cls = CLASSES[data[5]]
    sketch = cls.from_bytes(data)
    entries = []
    for field, value in MANIFEST[file]:
        if field.startswith("entry "):
            entries.append((item(field.split(" ", 1)[1]), int(value)))
        else:
            assert got(sketch, field) == value, field
    if cls is TopK:
        # most_common gives each tracked item, in order, with its upper bound and its own type.
        offset = sketch.error_bound
        common = sketch.most_common(len(sketch))
        assert [(x, c - offset) for x, c in common] == entries
        assert [type(x) for x, _ in common] == [type(x) for x, _ in entries]
    assert sketch.to_bytes() == data
    assert pickle.loads(pickle.dumps(sketch)).to_bytes() == data
    assert sketch.copy().to_bytes() == data
