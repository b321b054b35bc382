"""``sketchy distinct`` / ``sketchy stats`` against ``sort -u FILE | wc -l`` on a 1 GB file of short lines.

Usage: ``python bench/cli_vs_sort.py [--size-gb 1.0] [--file /tmp/sketchy-1gb.txt]``. Generates the
file once (seeded Zipf user ids, ~11 bytes a line), then times each command with ``/usr/bin/time``
(wall seconds and peak resident memory) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def generate(path: Path, size: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"user-{i}".encode() for i in range(2_000_000)], dtype=object)
    with open(path, "wb") as out:
        written = 0
        while written < size:
            ids = rng.zipf(1.1, 1_000_000) % len(vocabulary)
            block = b"\n".join(vocabulary[ids].tolist()) + b"\n"
            out.write(block)
            written += len(block)


def measure(command: str, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB over the pipeline's processes, stdout)."""
    timed = " | ".join(
        f"/usr/bin/time -f '%e %M' -a -o /tmp/sketchy-time.txt {part.strip()}" for part in command.split("|")
    )
    Path("/tmp/sketchy-time.txt").write_text("")
    start = time.perf_counter()
    out = subprocess.run(timed, shell=True, capture_output=True, text=True, env=env, check=True).stdout
    wall = time.perf_counter() - start
    peaks = [
        float(line.split()[1]) / 1024
        for line in Path("/tmp/sketchy-time.txt").read_text().splitlines()
        if line.strip()
    ]
    return wall, max(peaks), out.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--file", type=Path, default=Path("/tmp/sketchy-1gb.txt"))
    args = parser.parse_args()
    size = int(args.size_gb * 2**30)
    if not args.file.exists() or args.file.stat().st_size < size:
        print(f"generating {args.file} ({args.size_gb} GB)...", file=sys.stderr)
        generate(args.file, size)
    lines = int(
        subprocess.run(
            ["wc", "-l", str(args.file)], capture_output=True, text=True, check=True
        ).stdout.split()[0]
    )
    sketchy = shutil.which("sketchy") or str(Path(sys.executable).parent / "sketchy")
    c_locale = {**os.environ, "LC_ALL": "C"}
    rows = [
        ("sort -u FILE | wc -l", measure(f"sort -u {args.file} | wc -l")),
        ("LC_ALL=C sort -u FILE | wc -l", measure(f"sort -u {args.file} | wc -l", env=c_locale)),
        ("sketchy distinct FILE", measure(f"{sketchy} distinct --no-progress {args.file}")),
        ("sketchy stats FILE (distinct + top 10)", measure(f"{sketchy} stats --no-progress {args.file}")),
    ]
    print(f"{args.file}: {args.file.stat().st_size / 2**30:.2f} GiB, {lines:,} lines\n")
    print("| command | wall time | peak memory (RSS) | answer |")
    print("| --- | ---: | ---: | --- |")
    for name, (wall, rss, out) in rows:
        answer = out.splitlines()[0] if out else ""
        print(f"| `{name}` | {wall:.1f} s | {rss:.0f} MiB | {answer} |")
    sort_wall = min(rows[0][1][0], rows[1][1][0])
    print(f"\nsketchy distinct is {sort_wall / rows[2][1][0]:.1f}x faster than the fastest sort.")


if __name__ == "__main__":
    main()
