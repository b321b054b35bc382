"""Summarise a pytest-benchmark JSON as a Markdown table and a "times slower than sketchy" bar chart.

Usage::

    pytest bench --benchmark-only --benchmark-json=/tmp/bench.json
    python bench/report.py /tmp/bench.json [--out-dir bench/figures]

Writes ``benchmarks.md`` (one table per benchmark group) and ``benchmarks.png`` to the output directory.
In each group, a case is *sketchy* when its name contains ``"sketchy"``; the fastest sketchy case (lowest
median) is the group's reference, and every case's ratio is its median over the reference's median.
Groups without a sketchy case are listed in the table without ratios and left out of the chart.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "figures"
NO_GROUP = "(no group)"


@dataclass(frozen=True)
class Case:
    """One benchmark: its group, name and timings in seconds."""

    group: str
    name: str
    median: float
    mean: float
    min: float
    rounds: int

    @property
    def is_sketchy(self) -> bool:
        return "sketchy" in self.name

    @property
    def label(self) -> str:
        return self.name.removeprefix("test_")


def load_cases(path: Path) -> dict[str, list[Case]]:
    """Read a pytest-benchmark JSON file.

    Parameters
    ----------
    path
        File written by ``pytest --benchmark-json``.

    Returns
    -------
    dict
        Cases by group, groups in order of first appearance, each group's cases sorted by median.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    groups: dict[str, list[Case]] = {}
    for bench in data.get("benchmarks", []):
        stats = bench["stats"]
        case = Case(
            group=bench.get("group") or NO_GROUP,
            name=bench["name"],
            median=float(stats["median"]),
            mean=float(stats["mean"]),
            min=float(stats["min"]),
            rounds=int(stats.get("rounds", 0)),
        )
        groups.setdefault(case.group, []).append(case)
    return {group: sorted(cases, key=lambda c: c.median) for group, cases in groups.items()}


def reference(cases: Sequence[Case]) -> Case | None:
    """The fastest sketchy case of a group, or None when the group has none."""
    sketchy = [c for c in cases if c.is_sketchy]
    return min(sketchy, key=lambda c: c.median) if sketchy else None


def format_time(seconds: float) -> str:
    """Format a duration with three significant digits in ns, µs, ms or s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_ratio(ratio: float) -> str:
    """Format a ratio with about three significant digits: 0.75×, 3.45×, 19.1×, 228×, 1,234×."""
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.1f}×" if ratio < 100 else f"{ratio:,.0f}×"


def markdown(groups: dict[str, list[Case]]) -> str:
    """One Markdown table per group: name, median time, rounds and ratio to the fastest sketchy case."""
    lines = [
        "# Benchmarks",
        "",
        "Median time per benchmark round; *vs sketchy* is the median over the median of the fastest "
        "sketchy case of the group (higher is slower; **ref** marks the reference).",
    ]
    for group, cases in groups.items():
        ref = reference(cases)
        lines += [
            "",
            f"## {group}",
            "",
            "| Benchmark | Median | Rounds | vs sketchy |",
            "| --- | ---: | ---: | ---: |",
        ]
        for case in cases:
            if ref is None:
                ratio = "–"
            elif case is ref:
                ratio = "**ref**"
            else:
                ratio = format_ratio(case.median / ref.median)
            lines.append(f"| `{case.name}` | {format_time(case.median)} | {case.rounds} | {ratio} |")
        if ref is None:
            lines += ["", "*No case named `sketchy` in this group: no ratio.*"]
    return "\n".join(lines) + "\n"


def plot(groups: dict[str, list[Case]], path: Path) -> list[str]:
    """Draw one horizontal bar per case (ratio to the group's fastest sketchy case, log x axis).

    Returns
    -------
    list of str
        The groups left out because they have no sketchy case.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    rows: list[tuple[str, float | None, bool]] = []  # (label, ratio or None for a group header, is_sketchy)
    skipped = []
    for group, cases in groups.items():
        ref = reference(cases)
        if ref is None:
            skipped.append(group)
            continue
        rows.append((group, None, False))
        rows += [(c.label, c.median / ref.median, c.is_sketchy) for c in cases]
    if not rows:
        raise ValueError("no benchmark group has a sketchy case to compare with")

    ratios = [r for _, r, _ in rows if r is not None]
    left, right = min(0.5, 0.7 * min(ratios)), 2.5 * max(ratios)
    fig, ax = plt.subplots(figsize=(10, 1.4 + 0.27 * len(rows)), layout="constrained")
    ys = range(len(rows))
    for y, (_, ratio, sketchy) in zip(ys, rows, strict=True):
        if ratio is None:
            ax.axhspan(y - 0.5, y + 0.5, color="0.92", zorder=0)
            continue
        ax.barh(y, ratio - left, left=left, height=0.7, color="tab:orange" if sketchy else "tab:blue")
        ax.text(ratio * 1.08, y, format_ratio(ratio), va="center", fontsize=8)
    ax.set_yticks(list(ys), [label for label, _, _ in rows], fontsize=8)
    for tick, (_, ratio, _) in zip(ax.get_yticklabels(), rows, strict=True):
        if ratio is None:
            tick.set_fontweight("bold")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xscale("log")
    ax.set_xlim(left, right)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}×"))
    ax.axvline(1, color="black", linewidth=0.8)
    ax.grid(axis="x", which="major", alpha=0.4)
    xlabel = "median time ÷ median of the group's fastest sketchy case (log scale; lower is faster)"
    if skipped:
        xlabel += "\nnot shown (no case named sketchy): " + "; ".join(skipped)
    ax.set_xlabel(xlabel)
    ax.set_title("How many times slower than sketchy (orange: sketchy, blue: peers)")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return skipped


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="JSON written by pytest --benchmark-json")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="default: %(default)s")
    args = parser.parse_args(argv)

    groups = load_cases(args.results)
    if not groups:
        parser.error(f"{args.results}: no benchmarks")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    table = args.out_dir / "benchmarks.md"
    table.write_text(markdown(groups), encoding="utf-8")
    chart = args.out_dir / "benchmarks.png"
    for group in plot(groups, chart):
        print(f"warning: group {group!r} has no sketchy case; left out of the chart", file=sys.stderr)
    print(f"wrote {table} and {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
