"""``sketchy quantiles``, run as users run it: a subprocess, real files, real exit statuses."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

# The console script installed next to this interpreter (the venv need not be activated).
_SCRIPT = Path(sys.executable).parent / "sketchy"
SKETCHY = [str(_SCRIPT) if _SCRIPT.exists() else shutil.which("sketchy") or "sketchy"]

QS = [0.0, 0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0]
ALPHA = 0.01


def sketchy(
    *args: str, stdin: bytes | None = None, check: bool = True, status: int = 0
) -> subprocess.CompletedProcess:
    """Runs the command line; with ``check``, it must exit with ``status`` (1: it warned that more
    than 1% of an input's records were skipped, on stderr, after printing its results)."""
    result = subprocess.run([*SKETCHY, *args], input=stdin, capture_output=True, timeout=120, cwd="/")
    if check:
        assert result.returncode == status, result.stderr.decode()
        warned = [
            line for line in result.stderr.decode().splitlines() if line.startswith("sketchy: warning:")
        ]
        assert bool(warned) == (status == 1), result.stderr.decode()
    return result


def as_json(*args: str, stdin: bytes | None = None, status: int = 0) -> dict:
    return json.loads(sketchy(*args, "--json", stdin=stdin, status=status).stdout)


def one_error_line(*args: str, stdin: bytes | None = None) -> str:
    result = sketchy(*args, stdin=stdin, check=False)
    err = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(err) == 1, (args, result.returncode, err)
    assert err[0].startswith("sketchy: error: ") and b"Traceback" not in result.stderr
    assert result.stdout == b""
    return err[0]


def lower(values, qs) -> list[float]:
    return np.quantile(np.asarray(values, dtype=np.float64), qs, method="lower").tolist()


@pytest.fixture(scope="module")
def values() -> list[float]:
    rng = np.random.default_rng(8)
    latencies = rng.lognormal(3, 1.5, 50_000)
    return [*latencies.round(3).tolist(), *(-latencies[:5_000]).tolist(), 0.0]


@pytest.fixture(scope="module")
def files(tmp_path_factory, values) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli-quantiles")
    lines = "".join(f"{v!r}\n" for v in values)
    paths = {
        "lines": d / "numbers.txt",
        "crlf_gz": d / "numbers.txt.gz",
        "csv": d / "latency.csv",
        "jsonl": d / "events.jsonl",
    }
    paths["lines"].write_text(lines.rstrip("\n"))  # the last line has no newline
    paths["crlf_gz"].write_bytes(gzip.compress(lines.replace("\n", "\r\n").encode()))
    paths["csv"].write_text("id;ms;host\n" + "".join(f'{i};"{v!r}";h{i % 3}\n' for i, v in enumerate(values)))
    # Integers and floats, numbers and numeric strings, as JSON has them.
    paths["jsonl"].write_text(
        "".join(
            json.dumps({"request": {"ms": int(v) if float(v).is_integer() else (str(v) if i % 2 else v)}})
            + "\n"
            for i, v in enumerate(values)
        )
    )
    return paths


SOURCES = {
    "lines": [],
    "crlf_gz": [],
    "csv": ["--csv", "ms", "--delimiter", ";"],
    "csv-index": ["--csv", "1", "--delimiter", ";"],
    "jsonl": ["--jsonl", "request.ms"],
}


@pytest.mark.parametrize("source", SOURCES)
def test_every_input_format_is_within_alpha_and_exact_is_numpy(files, values, source):
    path = files["csv" if source.startswith("csv") else source]
    result = as_json("quantiles", str(path), *SOURCES[source], "-q", *map(str, QS), "--exact")
    assert result["items"] == result["count"] == len(values) and result["nan"] == 0
    assert result["min"] == min(values) and result["max"] == max(values)
    assert result["sketch"] == {"ddsketch": {"relative_accuracy": 0.01, "max_bins": 2048}}
    rows = result["quantiles"]
    truth = lower(values, QS)
    assert [r["q"] for r in rows] == QS
    assert [r["exact"] for r in rows] == truth  # exactly numpy's lower quantiles
    for row, true in zip(rows, truth, strict=True):
        assert abs(row["value"] - true) <= ALPHA * abs(true) + 1e-12, row
        expected_error = 0.0 if row["value"] == true else (row["value"] - true) / abs(true)
        assert row["relative_error"] == pytest.approx(expected_error, abs=1e-15)


def test_the_same_sketch_whatever_the_format(files):
    answers = [
        as_json("quantiles", str(files["csv" if s.startswith("csv") else s]), *extra)["quantiles"]
        for s, extra in SOURCES.items()
    ]
    assert all(a == answers[0] for a in answers)


def test_kll(files, values):
    result = as_json("quantiles", str(files["lines"]), "--kll", "-q", *map(str, QS), "--exact")
    assert result["sketch"]["kll"]["k"] == 200
    error = result["sketch"]["kll"]["normalized_rank_error"]
    ordered = np.sort(values)
    for row in result["quantiles"]:
        assert row["exact"] == lower(values, [row["q"]])[0]
        below = np.searchsorted(ordered, row["value"], "left") / len(ordered)
        upto = np.searchsorted(ordered, row["value"], "right") / len(ordered)
        assert below - error <= row["q"] <= upto + error, row
    small = as_json("quantiles", str(files["lines"]), "--kll", "--k", "50")
    assert small["sketch"]["kll"]["k"] == 50 and small["sketch_bytes"] < result["sketch_bytes"]


def test_q_parsing(files, values):
    path = str(files["lines"])
    default = as_json("quantiles", path)
    assert [r["q"] for r in default["quantiles"]] == [0.5, 0.9, 0.99, 0.999]
    spaced = as_json("quantiles", path, "-q", "0.5", "0.99", "0.999")
    commas = as_json("quantiles", path, "-q", "0.5,0.99", "0.999")
    assert [r["q"] for r in spaced["quantiles"]] == [0.5, 0.99, 0.999]
    assert spaced["quantiles"] == commas["quantiles"]
    before = json.loads(sketchy("quantiles", "--json", "-q", "0", "1", "--", path).stdout)  # end -q with --
    assert [r["value"] for r in before["quantiles"]] == [min(values), max(values)]
    assert "got 'FILE'" in one_error_line("quantiles", "-q", "0.5", "FILE")


@pytest.mark.parametrize(
    "qs", [["1.5"], ["0.5", "-0.1"], ["nan"], ["0.5,abc"], ["inf"], [","], ["1e-3", "2"]]
)
def test_bad_q_is_one_line_and_status_2(files, qs):
    assert "-q" in one_error_line("quantiles", str(files["lines"]), "-q", *qs)


def test_relative_accuracy_and_sketch_options(files, values):
    fine = as_json("quantiles", str(files["lines"]), "--relative-accuracy", "0.001", "--max-bins", "8192")
    assert fine["sketch"] == {"ddsketch": {"relative_accuracy": 0.001, "max_bins": 8192}}
    for row, true in zip(fine["quantiles"], lower(values, [0.5, 0.9, 0.99, 0.999]), strict=True):
        assert abs(row["value"] - true) <= 0.001 * abs(true)
    assert "relative_accuracy" in one_error_line("quantiles", str(files["lines"]), "--relative-accuracy", "2")
    assert "k:" in one_error_line("quantiles", str(files["lines"]), "--kll", "--k", "1")
    assert "--kll" in one_error_line("quantiles", str(files["lines"]), "--k", "100")


def test_human_output(files):
    out = sketchy("quantiles", str(files["lines"]), "-q", "0.5", "0.99").stdout.decode().splitlines()
    assert out[0].startswith("values: 55,001 in ") and ", min -" in out[0]
    assert out[1].startswith("DDSketch: values within 0.01")
    assert out[2].split() == ["q", "value"]
    assert [line.split()[0] for line in out[3:]] == ["0.5", "0.99"]
    exact = sketchy("quantiles", str(files["lines"]), "-q", "0.5", "--exact").stdout.decode().splitlines()
    assert exact[2].split() == ["q", "value", "exact", "rel.", "error"]
    assert exact[3].split()[-1].endswith("%")
    kll = sketchy("quantiles", str(files["lines"]), "--kll").stdout.decode().splitlines()
    assert kll[1].startswith("KLL k=200: ranks within 1.33%")


def test_stdin_several_files_and_nan(files, values, tmp_path):
    data = files["lines"].read_bytes()
    from_stdin = as_json("quantiles", stdin=data)
    assert from_stdin["quantiles"] == as_json("quantiles", "-", stdin=data)["quantiles"]
    assert from_stdin["quantiles"] == as_json("quantiles", str(files["lines"]))["quantiles"]
    twice = as_json("quantiles", str(files["lines"]), str(files["crlf_gz"]), "--exact")
    assert twice["count"] == 2 * len(values)
    assert [r["exact"] for r in twice["quantiles"]] == lower(values * 2, [0.5, 0.9, 0.99, 0.999])
    with_nan = tmp_path / "nan.txt"
    with_nan.write_text("1\nnan\n2\nNaN\n3\n")
    result = as_json("quantiles", str(with_nan), "-q", "0", "0.5", "1", "--exact")
    assert (result["count"], result["nan"]) == (3, 2)
    assert [r["exact"] for r in result["quantiles"]] == [1.0, 2.0, 3.0]
    assert "(and 2 NaN)" in sketchy("quantiles", str(with_nan)).stdout.decode()
    # The values --exact needs come from the same pass as the sketch's: stdin works too.
    exact_stdin = as_json("quantiles", "--exact", stdin=data)
    assert [r["exact"] for r in exact_stdin["quantiles"]] == lower(values, [0.5, 0.9, 0.99, 0.999])


def test_skipped_records_are_reported_and_skipped_by_exact_too(tmp_path):
    jsonl = tmp_path / "mixed.jsonl"
    jsonl.write_text('{"x": 1}\n{oops\n\n{"y": 2}\n{"x": null}\n{"x": [5]}\n{"x": "2.5"}\n{"x": 4}\n')
    result = as_json("quantiles", str(jsonl), "--jsonl", "x", "-q", "0", "0.5", "1", "--exact", status=1)
    assert result["count"] == 3 and sum(result["skipped"].values()) == 4
    assert [r["exact"] for r in result["quantiles"]] == [1.0, 2.5, 4.0]
    assert one_error_line("quantiles", str(jsonl), "--jsonl", "x", "--strict")
    csv = tmp_path / "short.csv"
    csv.write_text("a,b\n1,2\n3\n5,6\n")
    result = as_json("quantiles", str(csv), "--csv", "b", "-q", "0", "1", "--exact", status=1)
    assert result["count"] == 2 and result["skipped"] == {"row has no column 'b'": 1}
    assert [r["exact"] for r in result["quantiles"]] == [2.0, 6.0]
    undecodable = tmp_path / "bytes.txt"
    undecodable.write_bytes(b"1\n\xff\xfe\n3\n")
    result = as_json("quantiles", str(undecodable), "-q", "0", "1", "--exact", status=1)
    assert result["count"] == 2 and result["skipped"] == {"undecodable bytes (not UTF-8)": 1}
    assert [r["exact"] for r in result["quantiles"]] == [1.0, 3.0]


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = as_json("quantiles", str(empty), "--exact")
    assert result["count"] == 0 and result["min"] is None
    assert all(r["value"] is None and r["exact"] is None for r in result["quantiles"])
    assert sketchy("quantiles", str(empty)).stdout.decode().startswith("values: 0 in ")


def test_bad_inputs_are_one_line_and_status_2(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("1\n2\nthree\n4\n")
    blank = tmp_path / "blank.txt"
    blank.write_text("1\n\n2\n")
    infinite = tmp_path / "inf.txt"
    infinite.write_text("1\ninf\n")
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,x\n")
    # A record that is not a number is skipped and counted, with its line; --strict stops there.
    for args, line in [
        ((str(words),), f"{words}:3: not a number"),
        ((str(blank),), f"{blank}:2: not a number"),
        (("--csv", "b", str(table)), f"{table}:2: not a number"),
    ]:
        result = sketchy("quantiles", *args, status=1)  # one record in a few: a warning, status 1
        assert f"first at {line}" in result.stdout.decode(), args
        assert line in one_error_line("quantiles", "--strict", *args)
    assert as_json("quantiles", str(words), "-q", "1", status=1)["quantiles"][0]["value"] == 4.0
    cases = {
        (str(infinite),): "not finite",  # a DDSketch has no bin for it (a KLL takes it)
        ("--csv", "c", str(table)): "no column 'c' (columns: a, b)",
        (str(tmp_path / "nope.txt"),): f"cannot open '{tmp_path / 'nope.txt'}': No such file or directory",
        (str(tmp_path),): "it is a directory",
    }
    for args, message in cases.items():
        for exact in ([], ["--exact"]):
            assert message in one_error_line("quantiles", *args, *exact), args
    assert as_json("quantiles", str(infinite), "--kll", "-q", "1")["quantiles"][0]["value"] is None  # inf


def test_ctrl_c_reports_what_was_read():
    process = subprocess.Popen(
        [*SKETCHY, "quantiles", "-", "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/"
    )
    assert process.stdin is not None
    process.stdin.write(b"".join(b"%d\n" % i for i in range(1000)))
    process.stdin.flush()
    time.sleep(1.0)  # let it read what is there; the pipe stays open
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    result = json.loads(out)
    assert result["interrupted"] is True and result["count"] in (0, 1000)
    if result["count"]:
        assert abs(result["quantiles"][0]["value"] / 499 - 1) <= ALPHA


def test_the_other_commands_keep_their_options():
    assert sketchy("quantiles", "--help").stdout.decode().count("--precision") == 0
    for command in ("distinct", "top", "stats"):
        help_text = sketchy(command, "--help").stdout.decode()
        assert (
            "--precision" in help_text and "--exact" in help_text and "--relative-accuracy" not in help_text
        )
