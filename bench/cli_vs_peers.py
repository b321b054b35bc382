"""``sketchy distinct/stats`` against what a data engineer types: Polars' and DuckDB's lazy scans.

Usage: ``python bench/cli_vs_peers.py [--tokens 100_000_000] [--dir /tmp/sketchy-bench]``. Generates
(once, seeded) a file of identifier tokens of the Python standard library, one per line (blocks of
them shuffled; ~5 bytes a line), its gzip, a three-column CSV and JSON lines of the same tokens, then
times each command with ``/usr/bin/time`` (wall seconds, peak RSS) and prints a Markdown table:
the command, its wall time and peak memory, and the error of its distinct count.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BLOCK = 1_000_000


def stdlib_tokens() -> list[str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    tokens: list[str] = []
    for path in sorted(root.rglob("*.py"), key=lambda p: p.as_posix()):
        if "site-packages" not in path.parts:
            tokens += IDENTIFIER.findall(path.read_text(encoding="utf-8", errors="replace"))
    return tokens


def generate(directory: Path, n: int, seed: int = 0) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "lines": directory / f"tokens-{n}.txt",
        "gzip": directory / f"tokens-{n}.txt.gz",
        "csv": directory / f"tokens-{n // 4}.csv",
        "jsonl": directory / f"tokens-{n // 4}.jsonl",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    print(f"generating {n:,} tokens in {directory}...", file=sys.stderr)
    rng = np.random.default_rng(seed)
    vocabulary = np.array(stdlib_tokens(), dtype=object)
    # Some tokens get a numeric suffix, for a distinct count in the millions rather than 10^5.
    with (
        open(paths["lines"], "wb") as lines,
        gzip.open(paths["gzip"], "wb", compresslevel=6) as gz,
        open(paths["csv"], "w") as csv,
        open(paths["jsonl"], "w") as jsonl,
    ):
        csv.write("id,token,size\n")
        for start in range(0, n, BLOCK):
            picks = vocabulary[rng.integers(0, len(vocabulary), BLOCK)]
            suffix = rng.integers(0, 3_000_000, BLOCK)
            tokens = [
                t if s % 4 else f"{t}{s}" for t, s in zip(picks.tolist(), suffix.tolist(), strict=True)
            ]
            block = ("\n".join(tokens) + "\n").encode()
            lines.write(block)
            gz.write(block)
            if start < n // 4:
                csv.write("".join(f"{start + i},{t},{len(t)}\n" for i, t in enumerate(tokens)))
                jsonl.write(
                    "".join(json.dumps({"id": start + i, "tok": {"name": t}}) + "\n" for i, t in enumerate(tokens))
                )
    return paths


def measure(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout)."""
    timing = Path("/tmp/sketchy-time.txt")
    start = time.perf_counter()
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(timing), *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wall = time.perf_counter() - start
    return wall, float(timing.read_text().split()[-1]) / 1024, out.strip()


def polars(scan: str, column: str) -> list[str]:
    code = (
        "import polars as pl, sys; "
        f"print(pl.{scan}.select(pl.col({column!r}).approx_n_unique()).collect().item())"
    )
    return [sys.executable, "-c", code]


def duckdb(source: str, column: str) -> list[str]:
    code = (
        "import duckdb, sys; "
        f"print(duckdb.sql({f'select approx_count_distinct({column}) from {source}'!r}).fetchone()[0])"
    )
    return [sys.executable, "-c", code]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/sketchy-bench"))
    parser.add_argument("--no-exact", action="store_true", help="skip the exact count (sort -u)")
    args = parser.parse_args()
    paths = generate(args.dir, args.tokens)
    sketchy = [str(Path(sys.executable).parent / "sketchy")]
    lines, csv, jsonl = (str(paths[k]) for k in ("lines", "csv", "jsonl"))
    raw = "delim='\\x01', quote='', escape='', header=false, columns={'t': 'VARCHAR'}"
    cases: list[tuple[str, str, list[str], str | None]] = [
        ("lines", "sketchy distinct", [*sketchy, "distinct", "--json", lines], "lines"),
        ("lines", "sketchy stats (distinct + top-10 + total)", [*sketchy, "stats", "--json", lines], "lines"),
        (
            "lines",
            "Polars scan_csv(...).approx_n_unique()",
            polars(
                f'scan_csv({lines!r}, has_header=False, separator="\\x01", quote_char=None)', "column_1"
            ),
            "lines",
        ),
        ("lines", "DuckDB approx_count_distinct(read_csv)", duckdb(f"read_csv('{lines}', {raw})", "t"), "lines"),
        ("gzip", "sketchy distinct FILE.gz", [*sketchy, "distinct", "--json", str(paths["gzip"])], "lines"),
        ("gzip", "gzip -dc FILE.gz > /dev/null", ["sh", "-c", f"gzip -dc {paths['gzip']} > /dev/null"], None),
        ("csv", "sketchy distinct --csv token", [*sketchy, "distinct", "--json", "--csv", "token", csv], "csv"),
        ("csv", "Polars scan_csv(f).approx_n_unique()", polars(f"scan_csv({csv!r})", "token"), "csv"),
        ("csv", "DuckDB approx_count_distinct(read_csv)", duckdb(f"read_csv('{csv}')", "token"), "csv"),
        ("jsonl", "sketchy distinct --jsonl tok.name", [*sketchy, "distinct", "--json", "--jsonl", "tok.name", jsonl], "csv"),
        ("jsonl", "Polars scan_ndjson(f).approx_n_unique()", polars(f"scan_ndjson({jsonl!r}).select(pl.col('tok').struct.field('name'))", "name"), "csv"),
    ]
    truth: dict[str, int] = {}
    if not args.no_exact:
        for key, path in (("lines", lines),):
            wall, rss, out = measure(["sh", "-c", f"LC_ALL=C sort -u -S 2G {path} | wc -l"])
            truth[key] = int(out)
            cases.insert(0, ("lines", "sort -u FILE | wc -l (exact)", ["true"], None))
            print(f"exact: {truth[key]:,} distinct ({wall:.2f} s, sort -u)", file=sys.stderr)
        truth["csv"] = 0  # the CSV/JSON files hold the first quarter of the tokens: counted by sketchy --exact
        exact = json.loads(
            subprocess.run([*sketchy, "distinct", "--json", "--exact", "--csv", "token", csv], capture_output=True, text=True, check=True).stdout
        )
        truth["csv"] = exact["distinct"]["exact"]
    print(f"| input | command | wall | peak RSS | distinct error |\n| --- | --- | ---: | ---: | ---: |")
    for input_name, label, command, key in cases:
        if command == ["true"]:
            continue
        wall, rss, out = measure(command)
        estimate = None
        if key is not None and out:
            estimate = json.loads(out)["distinct"]["estimate"] if out.startswith("{") else float(out)
        error = f"{estimate / truth[key] - 1:+.2%}" if estimate is not None and truth.get(key) else ""
        size = Path({"lines": lines, "gzip": str(paths["gzip"]), "csv": csv, "jsonl": jsonl}[input_name]).stat().st_size
        print(f"| {input_name} ({size / 2**20:,.0f} MB) | `{label}` | {wall:.2f} s | {rss:,.0f} MB | {error} |", flush=True)
    if shutil.which("sort") is None:
        print("(sort not found)", file=sys.stderr)


if __name__ == "__main__":
    main()
