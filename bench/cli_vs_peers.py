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
            tokens = [t if s % 4 else f"{t}{s}" for t, s in zip(picks.tolist(), suffix.tolist(), strict=True)]
            block = ("\n".join(tokens) + "\n").encode()
            lines.write(block)
            gz.write(block)
            if start < n // 4:
                csv.write("".join(f"{start + i},{t},{len(t)}\n" for i, t in enumerate(tokens)))
                jsonl.write(
                    "".join(
                        json.dumps({"id": start + i, "tok": {"name": t}}) + "\n" for i, t in enumerate(tokens)
                    )
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
        f"import polars as pl; print(pl.{scan}.select(pl.col({column!r}).approx_n_unique()).collect().item())"
    )
    return [sys.executable, "-c", code]


def duckdb(source: str, column: str) -> list[str]:
    query = f"select approx_count_distinct({column}) from {source}"
    code = (
        "import duckdb; con = duckdb.connect(); con.execute('set enable_progress_bar = false'); "
        f"print(con.execute({query!r}).fetchone()[0])"
    )
    return [sys.executable, "-c", code]


def sketchy_estimate(out: str) -> float:
    return json.loads(out)["distinct"]["estimate"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/sketchy-bench"))
    args = parser.parse_args()
    paths = generate(args.dir, args.tokens)
    sketchy = str(Path(sys.executable).parent / "sketchy")
    lines, gz, csv, jsonl = (str(paths[k]) for k in ("lines", "gzip", "csv", "jsonl"))
    raw = "delim='\\x01', quote='', escape='', header=false, columns={'t': 'VARCHAR'}"
    no_quotes = 'has_header=False, separator="\\x01", quote_char=None'
    exact_lines = ["sh", "-c", f"LC_ALL=C sort -u -S 1G {lines} | wc -l"]
    exact_csv = ["sh", "-c", f"tail -n +2 {csv} | cut -d, -f2 | LC_ALL=C sort -u -S 1G | wc -l"]
    # (input, label, command, which exact count its estimate is compared with)
    cases: list[tuple[str, str, list[str], str | None]] = [
        (lines, "sort -u FILE | wc -l (exact)", exact_lines, "lines"),
        (lines, "sketchy distinct FILE", [sketchy, "distinct", "--json", lines], "lines"),
        (lines, "sketchy stats FILE (distinct, top 10, total)", [sketchy, "stats", "--json", lines], "lines"),
        (
            lines,
            "Polars scan_csv(FILE).approx_n_unique()",
            polars(f"scan_csv({lines!r}, {no_quotes})", "column_0"),
            "lines",
        ),
        (
            lines,
            "DuckDB approx_count_distinct(read_csv(FILE))",
            duckdb(f"read_csv('{lines}', {raw})", "t"),
            "lines",
        ),
        (gz, "sketchy distinct FILE.gz", [sketchy, "distinct", "--json", gz], "lines"),
        (gz, "gzip -dc FILE.gz > /dev/null", ["sh", "-c", f"gzip -dc {gz} > /dev/null"], None),
        (
            csv,
            "sketchy distinct --csv token FILE",
            [sketchy, "distinct", "--json", "--csv", "token", csv],
            "csv",
        ),
        (csv, "Polars scan_csv(FILE).approx_n_unique()", polars(f"scan_csv({csv!r})", "token"), "csv"),
        (csv, "DuckDB approx_count_distinct(read_csv(FILE))", duckdb(f"read_csv('{csv}')", "token"), "csv"),
        (
            jsonl,
            "sketchy distinct --jsonl tok.name FILE",
            [sketchy, "distinct", "--json", "--jsonl", "tok.name", jsonl],
            "csv",
        ),
        (
            jsonl,
            "Polars scan_ndjson(FILE).approx_n_unique()",
            polars(f"scan_ndjson({jsonl!r}).select(pl.col('tok').struct.field('name'))", "name"),
            "csv",
        ),
    ]
    truth = {"lines": int(measure(exact_lines)[2]), "csv": int(measure(exact_csv)[2])}
    print("| input | command | wall | peak RSS | distinct error |\n| --- | --- | ---: | ---: | ---: |")
    for path, label, command, key in cases:
        wall, rss, out = measure(command)
        if key is None or "sort -u" in label:
            error = ""
        else:
            estimate = sketchy_estimate(out) if out.startswith("{") else float(out.splitlines()[-1])
            error = f"{estimate / truth[key] - 1:+.2%}"
        size = Path(path).stat().st_size / 1e6
        name = Path(path).suffix.lstrip(".")
        print(f"| {name} ({size:,.0f} MB) | `{label}` | {wall:.2f} s | {rss:,.0f} MB | {error} |", flush=True)


if __name__ == "__main__":
    main()
