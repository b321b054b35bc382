"""``sketchy.update_from``: the Rust reader against Python's own ``csv`` and ``json`` modules on seeded
files (the items it adds must be the ones ``update`` adds for what Python reads), its error paths, and
files large enough to be read in several chunks on several threads."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from sketchy import KLL, CountMinSketch, DDSketch, HyperLogLog, TopK, update_from

CHUNK = 2 << 20  # the reader's chunk: files above it are read on several threads
EXACT = 1 << 24


def exact(path: Path, **kw) -> tuple[Counter, object]:
    """What the reader added, counted exactly (a TopK too large to forget anything)."""
    top = TopK(1, capacity=EXACT)
    report = update_from(path, top, **kw)
    assert top.error_bound == 0
    return Counter(dict(top.most_common(len(top)))), report


def words(rng: random.Random, n: int) -> list[str]:
    alphabet = ["a", "b", "é", "ß", "日", "😀", " ", "\t", ",", ";", '"', "x"]
    return ["".join(rng.choices(alphabet, k=rng.randrange(0, 12))) for _ in range(n)]


# --- lines -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 1000, 600_000])
def test_lines_equal_update_with_the_lines_python_reads(tmp_path, n):
    rng = random.Random(n)
    lines = [w.replace("\n", "") for w in words(rng, n)]
    if lines:
        lines[-1] += "end"  # an empty last line without a newline would be no line at all
    ends = [rng.choice(["\n", "\r\n"]) for _ in lines]
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    if n:  # the last line without its newline
        text = text[: -len(ends[-1])]
    path = tmp_path / "lines.txt"
    path.write_bytes(text.encode())
    if n > 100_000:
        assert path.stat().st_size > 2 * CHUNK
    expected = HyperLogLog(12, seed=5)
    expected.update(lines)
    got = HyperLogLog(12, seed=5)
    report = got.update_from(path)
    assert got == expected
    assert (report.items, report.lines, report.skipped) == (n, n, {})
    counts, _ = exact(path)
    assert counts == Counter(lines)
    cms, want = CountMinSketch(256, 3), CountMinSketch(256, 3)
    want.update(lines)
    update_from(path, cms)
    assert cms == want


def test_undecodable_lines_are_skipped_with_their_line_number(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n\xff\xfe\nfine\n\xc3\n")
    counts, report = exact(path)
    assert counts == Counter(["ok", "fine"])
    assert report.skipped == {"undecodable bytes (not UTF-8)": 2}
    assert report.first_problem == f"{path}:2: undecodable bytes (not UTF-8)"
    with pytest.raises(ValueError, match=r"bad.txt:2: undecodable"):
        update_from(path, HyperLogLog(), strict=True)


def test_quantile_sketches_skip_records_that_are_not_numbers(tmp_path):
    """Lines are parsed as ``float()`` parses them; any other line (a blank one too) is skipped and
    counted for every sketch of the read, so a HyperLogLog read alongside sees the same lines."""
    path = tmp_path / "numbers.txt"
    path.write_text(" 1.5\n2_000\nthree\n\n-inf\nnan\n1e3\n", encoding="utf-8")
    dd, kll, hll = DDSketch(), KLL(), HyperLogLog()
    with pytest.raises(ValueError, match="not finite"):
        update_from(path, dd)  # a DDSketch has no bin for -inf: the read changes nothing
    assert dd.count == 0
    report = update_from(path, kll, hll)
    assert report.skipped == {"not a number": 2}
    assert report.first_problem == f"{path}:3: not a number"
    assert (kll.count, kll.nan_count, kll.min, kll.max) == (4, 1, -float("inf"), 2000.0)
    assert round(hll.estimate()) == 5
    with pytest.raises(ValueError, match=r"numbers.txt:3: not a number"):
        update_from(path, KLL(), strict=True)
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"v": 1}\n{"v": "2.5"}\n{"v": "x"}\n', encoding="utf-8")
    report = DDSketch().update_from(rows, jsonl="v")
    assert report.skipped == {"not a number": 1}


def test_long_lines_are_skipped_in_bounded_memory(tmp_path):
    path = tmp_path / "long.txt"
    path.write_bytes(b"a\n" + b"x" * 5_000_000 + b"\nb\n" + b"y" * 6000 + b"\nc")
    counts, report = exact(path, max_line_bytes=4096)
    assert counts == Counter(["a", "b", "c"])
    assert report.skipped == {"line longer than 4096 bytes": 2} and report.lines == 5
    counts, _ = exact(path, max_line_bytes=8 << 20)
    assert sum(counts.values()) == 5


def test_gzip_multi_member_and_stdin(tmp_path):
    rng = random.Random(1)
    lines = words(rng, 50_000)
    lines = [w.replace("\n", "") for w in lines]
    text = ("\n".join(lines) + "\n").encode()
    half = len(text) // 2
    cut = text.index(b"\n", half) + 1
    path = tmp_path / "two.gz"
    path.write_bytes(gzip.compress(text[:cut]) + gzip.compress(text[cut:]))
    counts, report = exact(path)
    assert counts == Counter(lines) and report.items == len(lines)
    assert report.bytes == path.stat().st_size
    # stdin, as the command line reads "-": the same sketch.
    code = (
        "import sys, sketchy; h = sketchy.HyperLogLog(10); sketchy.update_from('-', h); "
        "sys.stdout.buffer.write(h.to_bytes())"
    )
    # cwd="/": not the checkout, whose sketchy/ has no compiled extension.
    out = subprocess.run(
        [sys.executable, "-c", code], input=path.read_bytes(), capture_output=True, check=True, cwd="/"
    )
    want = HyperLogLog(10)
    want.update(lines)
    assert HyperLogLog.from_bytes(out.stdout) == want


# --- CSV -------------------------------------------------------------------------------------------


def csv_text(rng: random.Random, rows: int, delimiter: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=rng.choice(["\n", "\r\n"]))
    writer.writerow(["id", "name", "note"])
    for i in range(rows):
        name = rng.choice(words(rng, 3) + ["multi\nline", 'say "hi"', "a,b", "", "x\r\ny"])
        row = [str(i), name, rng.choice(words(rng, 2))]
        writer.writerow(row[: rng.choice([3, 3, 3, 2, 1])])
    text = out.getvalue()
    # Quoting Python reads its own way: a quote inside an unquoted field, text after a closing
    # quote, an empty line.
    return text + f'7{delimiter}ab"c{delimiter}z\n8{delimiter}"q"r\n\n9{delimiter}last'


@pytest.mark.parametrize(("rows", "delimiter"), [(500, ","), (300_000, ","), (2000, ";"), (1000, "\t")])
def test_csv_columns_equal_python_csv(tmp_path, rows, delimiter):
    rng = random.Random(rows)
    text = csv_text(rng, rows, delimiter)
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode())
    if rows > 100_000:
        assert path.stat().st_size > 2 * CHUNK  # quoted newlines cross the chunk boundaries
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f, delimiter=delimiter))
    header, body = table[0], table[1:]
    for column in ("name", 1, "note", "0"):
        index = (
            column if isinstance(column, int) else (header.index(column) if column in header else int(column))
        )
        want = Counter(row[index] for row in body if len(row) > index)
        counts, report = exact(path, csv=column, delimiter=delimiter)
        assert counts == want, column
        missing = sum(len(row) <= index for row in body)
        assert report.items == sum(want.values())
        assert report.skipped == ({f"row has no column '{column}'": missing} if missing else {})


def test_csv_errors(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"no column 'c' \(columns: a, b\)"):
        update_from(path, HyperLogLog(), csv="c")
    with pytest.raises(ValueError, match="delimiter"):
        update_from(path, HyperLogLog(), csv="a", delimiter=";;")
    with pytest.raises(TypeError, match="csv: expected a column name"):
        update_from(path, HyperLogLog(), csv=True)
    with pytest.raises(TypeError, match="csv: expected a column name"):
        update_from(path, HyperLogLog(), csv=-1)
    with pytest.raises(ValueError, match="not both"):
        update_from(path, HyperLogLog(), csv="a", jsonl="a")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="no column 'a'"):
        update_from(empty, HyperLogLog(), csv="a")


def stray_quote_csv(tmp_path: Path, rows: int, at_line: int) -> tuple[Path, list[str]]:
    """A CSV of `rows` IP addresses (a header, then `rows` rows) where the row on line `at_line` has
    an opening quote that never closes, and the IPs of every other row."""
    rng = random.Random(rows)
    ips = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(rows)]
    lines = ["ip,agent", *(f"{ip},curl/{i % 7}" for i, ip in enumerate(ips))]
    lines[at_line - 1] = f'{ips[at_line - 2]},"Mozilla/5.0 (oops'
    path = tmp_path / "access.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, [ip for i, ip in enumerate(ips) if i != at_line - 2]


def test_a_stray_quote_loses_one_record_not_the_file(tmp_path):
    """An unterminated quoted field is reported at the line it opened on and skipped to that line's
    end, whatever the chunks: the file read in chunks on all cores, as a stream (gzip), and on one
    thread give the same sketch and report. Python's csv (and Polars and DuckDB) stop there instead."""
    path, ips = stray_quote_csv(tmp_path, 300_000, at_line=11)
    assert path.stat().st_size > 2 * CHUNK
    with open(path, newline="") as f, pytest.raises(csv.Error):
        list(csv.reader(f))  # "field larger than field limit": Python's csv stops
    zipped = tmp_path / "access.csv.gz"
    zipped.write_bytes(gzip.compress(path.read_bytes()))
    reports, images = [], []
    for source in (path, zipped):
        counts, report = exact(source, csv="ip")
        assert counts == Counter(ips) and report.items == len(ips) == 299_999
        assert report.skipped == {"unterminated quoted field (no closing quote within 1048576 bytes)": 1}
        assert report.first_problem.endswith(
            ":11: unterminated quoted field (no closing quote within 1048576 bytes)"
        )
        assert report.warning is None  # one record in 300,000
        reports.append((report.items, report.lines, report.skipped))
        hll = HyperLogLog(12)
        hll.update_from(source, csv="ip")
        images.append(hll.to_bytes())
    assert reports[0] == reports[1] and images[0] == images[1]
    with pytest.raises(ValueError, match=r"access\.csv:11: unterminated quoted field.*\(strict\)"):
        update_from(path, HyperLogLog(), csv="ip", strict=True)
    # A smaller max_line_bytes ends the search sooner, with the same outcome.
    counts, report = exact(path, csv="ip", max_line_bytes=100)
    assert counts == Counter(ips) and report.first_problem.split(": ", 1)[0].endswith(":11")


def test_quoted_newlines_that_close_are_fields_and_an_open_quote_at_the_end_is_reported(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('k,note\n1,"two\nlines"\n2,"a ""quoted"" word"\n3,"no end\n4,x\n')
    counts, report = exact(path, csv="note")
    assert counts == Counter({"two\nlines": 1, 'a "quoted" word': 1, "x": 1})
    assert report.first_problem.endswith(
        "notes.csv:5: unterminated quoted field (no closing quote within 1048576 bytes)"
    )
    assert report.lines == 6 and report.items == 3
    header = tmp_path / "header.csv"
    header.write_text('a,"b\n1,2\n')
    with pytest.raises(ValueError, match="header has a quoted field that does not close"):
        update_from(header, HyperLogLog(), csv="a")


def test_more_than_one_percent_skipped_is_a_warning_and_values_come_back(tmp_path):
    path = tmp_path / "mostly.txt"
    path.write_text("1\n2\nthree\n4\n" * 25)  # a quarter are not numbers
    sketch = DDSketch()
    report = update_from(path, sketch, values=True)
    assert report.skipped == {"not a number": 25} and report.items == 75
    assert report.warning == (
        "25 of 100 records (25.0%) were skipped, more than 1%: is this the format and the delimiter of the input?"
    )
    assert "warning=" in repr(report)
    assert sorted(report.values.tolist()) == sorted([1.0, 2.0, 4.0] * 25) and sketch.count == 75
    clean = tmp_path / "clean.txt"
    clean.write_text("".join(f"{i}\n" for i in range(1000)) + "x\n")  # 1 in 1001: under 1%
    report = update_from(clean, DDSketch())
    assert report.warning is None and report.values is None and report.skipped == {"not a number": 1}
    report = update_from(clean, values=True)  # the values alone, no sketch
    assert len(report.values) == 1000


# --- JSON lines ------------------------------------------------------------------------------------


def python_field(line: str, path: str):
    """The item the command line has always taken from a JSON line (None: skipped)."""
    if not line.strip():
        return "blank"
    try:
        value = json.loads(line)
    except ValueError:
        return None
    for key in path.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int, float)) and value is not None:
        return value
    return None


def test_json_fields_equal_python_json(tmp_path):
    rng = random.Random(7)
    values = [
        "s",
        "ü",
        "",
        0,
        -3,
        2**62,
        1.5,
        -0.0,
        1e300,
        True,
        False,
        None,
        [1, 2],
        {"k": 1},
        "tab\t",
        "\u2028",
    ]
    lines = []
    for _ in range(20_000):
        kind = rng.randrange(8)
        v = rng.choice(values)
        if kind == 0:
            lines.append(json.dumps({"a": {"b": v}}))
        elif kind == 1:
            lines.append(json.dumps({"a": [v, {"b": v}]}))
        elif kind == 2:
            lines.append('{"a": {"b": 1}, "a": {"b": "dup"}}')
        elif kind == 3:
            lines.append(
                rng.choice(["{oops", "[1,", "", "   ", '{"a": {"b": 1}} x', "NaN", '{"a": {"b": NaN}}'])
            )
        elif kind == 4:
            lines.append(json.dumps({"x": v}, indent=None))
        else:
            lines.append(json.dumps({"a": {"b": v, "c": [v]}}, separators=(",", ":")))
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n")
    for field in ("a.b", "a.0", "a.1.b", "x"):
        want = Counter()
        skipped = 0
        for line in lines:
            value = python_field(line, field)
            if value is None:
                skipped += 1
            elif value != "blank" or line.strip():
                want[value] += 1
        counts, report = exact(path, jsonl=field)
        # NaN != NaN: compare the rest exactly, NaN by count.
        nan = lambda c: sum(n for k, n in c.items() if isinstance(k, float) and k != k)  # noqa: E731
        clean = lambda c: Counter({k: n for k, n in c.items() if not (isinstance(k, float) and k != k)})  # noqa: E731
        assert clean(counts) == clean(want) and nan(counts) == nan(want), field
        assert sum(report.skipped.values()) == skipped


# --- errors and the result's independence from threads --------------------------------------------


def test_bad_files_raise_and_change_nothing(tmp_path):
    hll = HyperLogLog(10)
    hll.update(["kept"])
    before = hll.to_bytes()
    with pytest.raises(FileNotFoundError, match="cannot open"):
        hll.update_from(tmp_path / "nope")
    with pytest.raises(IsADirectoryError):
        hll.update_from(tmp_path)
    binary = tmp_path / "bin"
    binary.write_bytes(b"abc\n\x00\x01\x02")
    with pytest.raises(ValueError, match="binary data"):
        hll.update_from(binary)
    lines = "".join(f"line {i}\n" for i in range(200_000)).encode()
    truncated = tmp_path / "cut.gz"
    truncated.write_bytes(gzip.compress(lines)[:-20_000])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        hll.update_from(truncated)
    corrupt = bytearray(gzip.compress(lines))
    corrupt[len(corrupt) // 2] ^= 0xFF
    (tmp_path / "bad.gz").write_bytes(bytes(corrupt))
    with pytest.raises(ValueError, match="gzip"):
        hll.update_from(tmp_path / "bad.gz")
    with pytest.raises(TypeError, match="sketches"):
        update_from(binary, "not a sketch")
    assert hll.to_bytes() == before
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert hll.update_from(empty).items == 0 and hll.to_bytes() == before


def test_the_sketches_do_not_depend_on_the_number_of_threads(tmp_path):
    rng = random.Random(3)
    tokens = [f"t{rng.paretovariate(1.1):.0f}" for _ in range(1_500_000)]
    path = tmp_path / "zipf.txt"
    path.write_text("\n".join(tokens))
    code = (
        "import sys, sketchy; h, t = sketchy.HyperLogLog(14), sketchy.TopK(20, capacity=64); "
        f"sketchy.update_from({str(path)!r}, h, t); sys.stdout.buffer.write(h.to_bytes() + t.to_bytes())"
    )
    outputs = set()
    for threads in ("1", "2", "8"):
        env = {**os.environ, "SKETCHY_NUM_THREADS": threads}
        outputs.add(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, check=True, cwd="/"
            ).stdout
        )
    assert len(outputs) == 1


def test_progress_is_reported_and_a_failing_callback_changes_nothing(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("".join(f"{i % 977}\n" for i in range(3_000_000)))
    calls = []
    hll = HyperLogLog(10)
    report = hll.update_from(path, progress=lambda done, items: calls.append((done, items)))
    assert calls and all(0 <= d <= path.stat().st_size and 0 <= n <= 3_000_000 for d, n in calls)
    assert report.bytes == path.stat().st_size and report.items == 3_000_000

    def fail(done, items):
        raise RuntimeError("stop here")

    before = TopK(3)
    with pytest.raises(RuntimeError, match="stop here"):
        before.update_from(path, progress=fail)
    assert before.total == 0


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_a_chunk_boundary_inside_a_crlf_pair(tmp_path, offset):
    """A line whose "\\r\\n" straddles the reader's first chunk boundary (and its neighbours)."""
    lines, size = [], 0
    while size < CHUNK - 40:
        lines.append(f"line {len(lines)}\r\n")
        size += len(lines[-1])
    head = "".join(lines)
    pad = "p" * (CHUNK - 1 + offset - len(head))  # the next "\r" at byte CHUNK - 1 + offset
    assert 0 < len(pad) < 100
    text = head + pad + "\r\n" + "".join(f"tail {i}\r\n" for i in range(200_000))
    path = tmp_path / "crlf.txt"
    path.write_bytes(text.encode())
    lines = text.split("\r\n")[:-1]
    counts, report = exact(path)
    assert counts == Counter(lines) and report.items == len(lines) and report.skipped == {}


def test_random_bytes_never_panic(tmp_path):
    """Seeded random files for every format: a report or a ValueError, never a panic."""
    import numpy as np

    rng = np.random.default_rng(12)
    alphabet = np.frombuffer(b'ab,;"\n\r{}[]:\\ \t\xc3\xa9\xff1e-.', dtype=np.uint8)
    path = tmp_path / "noise"
    for trial in range(300):
        size = int(rng.choice([0, 1, 2, 7, 100, 5000, 70_000])) if trial % 50 else 2 * CHUNK + 17
        path.write_bytes(rng.choice(alphabet, size).tobytes())
        for kw in ({}, {"csv": "a"}, {"csv": 1, "delimiter": ";"}, {"jsonl": "a.0"}, {"max_line_bytes": 3}):
            top = TopK(3)
            try:
                report = update_from(path, top, **kw)
            except ValueError:
                assert top.total == 0
                continue
            assert report.items == top.total
