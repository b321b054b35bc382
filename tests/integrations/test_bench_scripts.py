"""Smoke tests of the figure scripts in bench/: they run end to end on tiny inputs and write their files."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_script(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``bench/<name>.py`` by path (bench/ is not a package)."""
    pytest.importorskip("matplotlib")
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path


def test_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = load_script("report", monkeypatch)

    def bench(group: str, name: str, median: float) -> dict:
        stats = {"min": median * 0.9, "median": median, "mean": median * 1.1, "rounds": 5}
        return {"group": group, "name": name, "stats": stats}

    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            {
                "benchmarks": [
                    bench("hll/update", "test_update_sketchy", 2e-3),
                    bench("hll/update", "test_update_peer_loop", 5e-2),
                    bench("hash/single", "test_single_peer", 3e-7),
                    bench("hash/single", "test_single_sketchy", 4e-7),
                    bench("hash/single", "test_single_sketchy_slow", 8e-7),
                ]
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert report.main([str(results), "--out-dir", str(out)]) == 0

    assert_png(out / "benchmarks.png")
    table = (out / "benchmarks.md").read_text(encoding="utf-8")
    assert "## hll/update" in table and "## hash/single" in table
    assert "| `test_update_peer_loop` | 50 ms | 5 | 25.0× |" in table
    assert "| `test_single_sketchy` | 400 ns | 5 | **ref** |" in table  # the fastest sketchy case
    assert "| `test_single_peer` | 300 ns | 5 | 0.75× |" in table


def test_accuracy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accuracy = load_script("accuracy", monkeypatch)
    assert accuracy.main(["--out-dir", str(tmp_path), "--trials", "3"]) == 0
    for name in ("hll_error.png", "cms_error.png"):
        assert_png(tmp_path / name)
