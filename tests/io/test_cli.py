"""The ``sketchy`` command line, run as users run it: a subprocess, real files, real exit statuses."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

# The console script installed next to this interpreter (the venv need not be activated).
_SCRIPT = Path(sys.executable).parent / "sketchy"
SKETCHY = [str(_SCRIPT) if _SCRIPT.exists() else shutil.which("sketchy") or "sketchy"]


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


@pytest.fixture(scope="module")
def stream() -> list[str]:
    values = np.random.default_rng(3).zipf(1.3, 100_000) % 20_000
    return [f"user-{v}" for v in values.tolist()]


@pytest.fixture(scope="module")
def files(tmp_path_factory, stream) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    text = "".join(s + "\n" for s in stream)
    paths = {
        "lines": d / "lines.txt",
        "crlf_gz": d / "lines.txt.gz",
        "csv": d / "data.csv",
        "jsonl": d / "data.jsonl",
    }
    paths["lines"].write_text(text.rstrip("\n"))  # the last line has no newline
    paths["crlf_gz"].write_bytes(gzip.compress(text.replace("\n", "\r\n").encode()))
    paths["csv"].write_text("id;user\n" + "".join(f"{i};{s}\n" for i, s in enumerate(stream)))
    paths["jsonl"].write_text("".join(json.dumps({"event": {"user": s}}) + "\n" for s in stream))
    return paths


def test_demo_runs_and_compares_with_exact():
    out = sketchy("demo", "--events", "200000").stdout.decode()
    assert "distinct users" in out and "exact" in out and "memory" in out and "M events/s" in out
    assert "same top 10 as the exact count: True" in out
    module = subprocess.run(
        [sys.executable, "-m", "sketchy", "demo", "-n", "50000"], capture_output=True, cwd="/"
    )
    assert module.returncode == 0 and b"distinct users" in module.stdout


@pytest.mark.parametrize(
    ("source", "extra"),
    [
        ("lines", []),
        ("crlf_gz", []),
        ("csv", ["--csv", "user", "--delimiter", ";"]),
        ("csv", ["--csv", "1", "--delimiter", ";"]),
        ("jsonl", ["--jsonl", "event.user"]),
    ],
)
def test_every_input_format_agrees_with_the_exact_answer(files, stream, source, extra):
    result = as_json("stats", str(files[source]), *extra, "--exact", "-k", "5")
    truth = Counter(stream)
    assert result["items"] == len(stream)
    distinct = result["distinct"]
    assert distinct["exact"] == len(truth)
    assert distinct["low_95"] <= len(truth) <= distinct["high_95"]
    assert [r["item"] for r in result["top"]] == [item for item, _ in truth.most_common(5)]
    for row in result["top"]:
        assert row["low"] <= truth[row["item"]] <= row["high"] and row["exact"] == truth[row["item"]]


def test_stdin_and_several_files(files, stream):
    data = files["lines"].read_bytes()
    from_stdin = as_json("distinct", stdin=data)
    from_dash = as_json("distinct", "-", stdin=data)
    assert (
        from_stdin["distinct"]
        == from_dash["distinct"]
        == as_json("distinct", str(files["lines"]))["distinct"]
    )
    twice = as_json("top", str(files["lines"]), str(files["crlf_gz"]), "-k", "1")
    assert (
        twice["items"] == 2 * len(stream)
        and twice["top"][0]["count"] == 2 * Counter(stream).most_common(1)[0][1]
    )


def test_human_output(files):
    out = sketchy("stats", str(files["lines"]), "-k", "3").stdout.decode()
    assert out.startswith("items: 100,000 in ")
    assert "distinct: " in out and "95% between" in out and "   1. user-1 " in out


def test_missing_file_is_one_line_and_status_2(tmp_path):
    result = sketchy("distinct", str(tmp_path / "nope.txt"), check=False)
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        f"sketchy: error: cannot open '{tmp_path / 'nope.txt'}': No such file or directory"
    ]
    assert sketchy("top", "-k", "0", check=False).returncode == 2
    assert sketchy("stats", "--csv", "nosuchcolumn", str(tmp_path / "nope.txt"), check=False).returncode == 2


def test_bad_lines_are_counted_or_fatal_with_strict(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"a\nb\n\xff\xfe\na\n")
    result = as_json("distinct", str(bad), status=1)  # one line in four: more than 1%
    assert result["items"] == 3 and result["skipped"] == {"undecodable bytes (not UTF-8)": 1}
    assert result["warnings"] == [
        f"{bad}: 1 of 4 records (25.0%) were skipped, more than 1%: "
        "is this the format and the delimiter of the input?"
    ]
    assert result["first_problem"].endswith("bad.txt:3: undecodable bytes (not UTF-8)")
    strict = sketchy("distinct", str(bad), "--strict", check=False)
    assert strict.returncode == 2 and b"bad.txt:3" in strict.stderr and b"Traceback" not in strict.stderr
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text('{"x": 1}\n{oops\n{"y": 2}\n{"x": {"deep": 1}}\n{"x": "s"}\n')
    result = as_json("top", str(jsonl), "--jsonl", "x", status=1)
    assert result["items"] == 2 and sum(result["skipped"].values()) == 3
    assert sketchy("top", str(jsonl), "--jsonl", "x", "--strict", check=False).returncode == 2
    csv = tmp_path / "bad.csv"
    csv.write_text("a,b\n1,2\n3\n5,6\n")
    result = as_json("distinct", str(csv), "--csv", "b", status=1)
    assert result["items"] == 2 and result["skipped"] == {"row has no column 'b'": 1}
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert as_json("stats", str(empty))["items"] == 0


def test_ctrl_c_reports_what_was_counted():
    process = subprocess.Popen(
        [*SKETCHY, "distinct", "-", "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/"
    )
    assert process.stdin is not None
    process.stdin.write(b"".join(b"item-%d\n" % i for i in range(1000)))
    process.stdin.flush()
    time.sleep(1.0)  # let it read what is there; the pipe stays open
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    result = json.loads(out)
    assert result["interrupted"] is True and result["items"] in (0, 1000)


def test_bad_inputs_are_one_line_and_status_2(tmp_path):
    binary = tmp_path / "image.bin"
    binary.write_bytes(b"GIF89a\x00\x01\x02" * 100)
    truncated = tmp_path / "cut.gz"
    truncated.write_bytes(gzip.compress(b"".join(b"line %d\n" % i for i in range(100_000)))[:-5000])
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    cases = {
        (str(tmp_path),): "it is a directory",
        (str(binary),): "binary data (a NUL byte at offset 6)",
        (str(truncated),): "corrupt or truncated gzip data",
        ("--csv", "c", str(table)): "no column 'c' (columns: a, b)",
    }
    for args, message in cases.items():
        result = sketchy("stats", *args, check=False)
        err = result.stderr.decode().strip().splitlines()
        assert result.returncode == 2 and len(err) == 1, (args, err)
        assert err[0].startswith("sketchy: error: ") and message in err[0], (args, err)


def test_a_huge_line_is_skipped_in_bounded_memory(tmp_path):
    path = tmp_path / "one-huge-line.txt"
    with open(path, "wb") as f:
        f.write(b"a\nb\n")
        for _ in range(64):
            f.write(b"x" * (1 << 20))  # a 64 MiB line
        f.write(b"\nc\n")
    result = as_json("distinct", str(path), "--exact", status=1)
    assert result["items"] == 3 and result["distinct"]["exact"] == 3
    assert result["skipped"] == {"line longer than 1048576 bytes": 1}
    assert result["first_problem"].endswith("one-huge-line.txt:3: line longer than 1048576 bytes")


def test_a_stray_quote_is_one_skipped_row_and_strict_stops_there(tmp_path):
    """The new user's file: one stray quote at line 11 of a large CSV. One row is lost, the rest read
    (status 0: under 1% skipped); --strict stops at it with one line (status 2)."""
    rows = [f"10.0.{i % 256}.{i // 256 % 256},x" for i in range(200_000)]
    rows[9] = '10.9.9.9,"curl/7 (oops'
    path = tmp_path / "ips.csv"
    path.write_text("ip,agent\n" + "\n".join(rows) + "\n")
    result = as_json("distinct", str(path), "--csv", "ip", "--exact")
    assert result["items"] == 199_999 and result["distinct"]["exact"] == 65_536
    problem = "unterminated quoted field (no closing quote within 1048576 bytes)"
    assert result["skipped"] == {problem: 1} and result["first_problem"] == f"{path}:11: {problem}"
    text = sketchy("distinct", str(path), "--csv", "ip").stdout.decode()
    assert f"skipped: 1 ({problem}; first at {path}:11: {problem})" in text
    strict = sketchy("distinct", str(path), "--csv", "ip", "--strict", check=False)
    err = strict.stderr.decode().strip().splitlines()
    assert strict.returncode == 2 and len(err) == 1 and f"{path}:11: {problem} (strict)" in err[0]
