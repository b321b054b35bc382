"""The registries agree: every public sketch class of sketchy has an entry in the tests' registry
(``sketches.py``), so that no sketch can skip the contract suites."""

from __future__ import annotations

from sketches import SKETCHES

import sketchy


def sketch_classes() -> set[type]:
    public = (getattr(sketchy, name) for name in sketchy.__all__)
    return {c for c in public if isinstance(c, type) and (hasattr(c, "to_bytes") or hasattr(c, "merge"))}


def test_every_public_sketch_class_has_an_entry():
    classes = sketch_classes()
    assert {"CountMinSketch", "TopK", "HyperLogLog", "DDSketch", "KLL"} <= {c.__name__ for c in classes}
    missing = classes - {entry.cls for entry in SKETCHES.values()}
    assert not missing, (
        f"add an entry to tests/contract/sketches.py for {sorted(c.__name__ for c in missing)}"
    )


def test_every_entry_is_a_public_class_and_its_mismatches_name_their_parameter():
    for name, entry in SKETCHES.items():
        assert entry.cls in sketch_classes(), name
        assert entry.make() == entry.make() and entry.make() != entry.other(), name
        for make, parameter in entry.mismatches:
            assert type(make()) is entry.cls and parameter.isidentifier(), name
