"""The ``sketchy`` command line: distinct counts, top-k frequencies and quantiles of big inputs, in bounded memory.

::

    sketchy distinct access.log.gz                 # how many distinct lines?
    sketchy top -k 20 --csv user events.csv        # the 20 most frequent users
    sketchy stats --jsonl request.ip logs.jsonl    # both, and the number of items
    sketchy quantiles --csv ms latency.csv -q 0.5 0.99 0.999   # percentiles of a numeric column
    sketchy demo                                   # a built-in sample: estimates vs exact answers

Inputs are files or ``-`` (stdin), plain or gzip-compressed. They are read by sketchy's Rust reader
(:func:`sketchy.update_from`: all cores, no Python object per record), so memory stays bounded
whatever the input size; ``--exact`` also keeps every distinct item (every value, for
``quantiles``), to show the error. Records that give no item are skipped and counted; when they are
more than 1% of an input, a warning says so on stderr and the exit status is 1 (``--strict``: the
first one is an error, status 2).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

EXACT = 1 << 24  # the most distinct items --exact counts exactly (a TopK of that capacity)


class UserError(Exception):
    """A mistake in the input or the arguments: one line on stderr, exit status 2."""


@dataclass
class Tally:
    """What was read from all the files, for the report."""

    items: int = 0
    lines: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    first_problem: str | None = None
    warnings: list[str] = field(default_factory=list)  # "source: ...", from the reader's reports
    values: list[Any] = field(default_factory=list)  # the numbers read, with ``values=True``

    def add(self, report: Any, source: str) -> None:
        self.items += report.items
        self.lines += report.lines
        self.skipped.update(report.skipped)
        if self.first_problem is None:
            self.first_problem = report.first_problem
        if report.warning is not None:
            self.warnings.append(f"{source}: {report.warning}")
        if report.values is not None:
            self.values.append(report.values)

    def status(self) -> int:
        """1 when an input had more than 1% of its records skipped (the reader's warning), else 0."""
        for warning in self.warnings:
            print(f"sketchy: warning: {warning}", file=sys.stderr)
        return 1 if self.warnings else 0


# --- reading and counting ----------------------------------------------------------------------------


class Counting:
    """The sketches a command needs, all fed in one pass over each file by the Rust reader; with
    ``--exact`` also a top-k summary large enough to count every item exactly."""

    def __init__(self, args: argparse.Namespace, distinct: bool, top: bool) -> None:
        from sketchy import HyperLogLog, TopK

        self.hll = HyperLogLog(args.precision, seed=args.seed) if distinct else None
        self.top = TopK(args.k, seed=args.seed, capacity=max(args.capacity, args.k)) if top else None
        # Exact while it holds at most EXACT distinct items (its error bound stays 0).
        self.exact = TopK(args.k, seed=args.seed, capacity=EXACT) if args.exact else None

    def sketches(self) -> list[Any]:
        return [s for s in (self.hll, self.top, self.exact) if s is not None]

    def memory(self) -> int:
        return sum(s.__sizeof__() for s in (self.hll, self.top) if s is not None)


def read(
    path: str,
    args: argparse.Namespace,
    sketches: list[Any],
    tally: Tally,
    progress: Any,
    values: bool = False,
) -> None:
    """Reads one file (or stdin) into the sketches (and, with ``values``, keeps every number read);
    KeyboardInterrupt after counting what was read."""
    from sketchy import update_from

    source = "<stdin>" if path == "-" else path
    feed = None
    if progress is not None:
        try:
            size: int | None = os.stat(path).st_size if path != "-" else None
        except OSError:
            size = None
        progress.reset(total=size)
        progress.set_description(source)
        started = time.perf_counter()

        def feed(done: int, items: int) -> None:
            progress.update(done - progress.n)
            rate = (tally.items + items) / max(time.perf_counter() - started, 1e-9)
            progress.set_postfix_str(f"{tally.items + items:,} items, {rate:,.0f} items/s", refresh=False)

    try:
        report = update_from(
            path,
            *sketches,
            csv=args.csv,
            jsonl=args.jsonl,
            delimiter=args.delimiter,
            strict=args.strict,
            progress=feed,
            values=values,
        )
    except KeyboardInterrupt as err:
        if (partial := getattr(err, "report", None)) is not None:
            tally.add(partial, source)
        raise
    except (OSError, ValueError) as err:
        raise UserError(str(err)) from None
    tally.add(report, source)


def run(args: argparse.Namespace, distinct: bool, top: bool) -> int:
    counting = Counting(args, distinct, top)
    tally = Tally()
    started = time.perf_counter()
    interrupted = False
    progress = _progress(args)
    try:
        for path in args.files or ["-"]:
            read(path, args, counting.sketches(), tally, progress)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if progress is not None:
            progress.close()
    elapsed = time.perf_counter() - started
    report(args, counting, tally, elapsed, interrupted)
    return 130 if interrupted else tally.status()


def _progress(args: argparse.Namespace) -> Any:
    if args.no_progress or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(
        total=None, unit="B", unit_scale=True, unit_divisor=1024, delay=0.5, file=sys.stderr, leave=False
    )


def report(
    args: argparse.Namespace, counting: Counting, tally: Tally, elapsed: float, interrupted: bool
) -> None:
    result: dict[str, Any] = {"items": tally.items, "seconds": round(elapsed, 3)}
    if interrupted:
        result["interrupted"] = True
    if tally.skipped:
        result["skipped"] = dict(tally.skipped)
        result["first_problem"] = tally.first_problem
    if tally.warnings:
        result["warnings"] = tally.warnings
    hll, top, exact = counting.hll, counting.top, counting.exact
    if exact is not None and exact.error_bound > 0:
        result["exact_unavailable"] = f"more than {EXACT:,} distinct items"
        exact = None
    if hll is not None:
        low, high = hll.estimate_bounds(num_std=2)
        result["distinct"] = {"estimate": round(hll.estimate()), "low_95": int(low), "high_95": int(high) + 1}
        if exact is not None:
            result["distinct"]["exact"] = len(exact)
    if top is not None:
        rows = []
        for item, count in top.most_common(args.k):
            lower, upper = top.bounds(item)
            row = {"item": item, "count": count, "low": lower, "high": upper}
            if exact is not None:
                row["exact"] = exact[item]
            rows.append(row)
        result["top"] = rows
        result["top_error_bound"] = top.error_bound
        if exact is not None:
            result["top_exact"] = [{"item": i, "count": c} for i, c in exact.most_common(args.k)]
    result["sketch_bytes"] = counting.memory()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    out = []
    if interrupted:
        out.append(f"interrupted: counted the first {tally.items:,} items")
    if args.command == "stats" or tally.skipped:
        out.append(
            f"items: {tally.items:,} in {elapsed:.2f} s ({tally.items / max(elapsed, 1e-9):,.0f} items/s)"
        )
    for reason, count in tally.skipped.items():
        out.append(f"skipped: {count:,} ({reason}; first at {tally.first_problem})")
    if "distinct" in result:
        d = result["distinct"]
        line = f"distinct: {d['estimate']:,} (95% between {d['low_95']:,} and {d['high_95']:,})"
        if "exact" in d:
            error = d["estimate"] / d["exact"] - 1 if d["exact"] else 0.0
            line += f"; exact {d['exact']:,} (error {error:+.2%})"
        out.append(line)
    if "top" in result:
        out.append(f"top {len(result['top'])} (counts within -{result['top_error_bound']:,} of the truth):")
        width = max((len(str(r["item"])) for r in result["top"]), default=4)
        for rank, r in enumerate(result["top"], 1):
            exact_note = f"  exact {r['exact']:,}" if "exact" in r else ""
            out.append(f"{rank:>4}. {r['item']!s:<{width}}  {r['count']:>12,}{exact_note}")
    print("\n".join(out))


# --- quantiles ------------------------------------------------------------------------------------------


def parse_qs(tokens: Sequence[str]) -> list[float]:
    """The quantiles of ``-q``: numbers in [0, 1], given as separate arguments or comma-separated."""
    qs = []
    for token in (t for arg in tokens for t in arg.split(",") if t.strip()):
        try:
            q = float(token)
        except ValueError:
            raise UserError(
                f"-q takes quantiles in [0, 1], got {token!r} (FILE after -q? put it first, or end -q with --)"
            ) from None
        if not 0 <= q <= 1:
            raise UserError(f"-q takes quantiles in [0, 1], got {token!r}")
        qs.append(q)
    if not qs:
        raise UserError("-q needs at least one quantile")
    return qs


def quantile_sketch(args: argparse.Namespace) -> Any:
    from sketchy import KLL, DDSketch

    if args.k is not None and not args.kll:
        raise UserError("--k is the size of a KLL sketch: use it with --kll")
    try:
        if args.kll:
            return KLL(200 if args.k is None else args.k)
        return DDSketch(args.relative_accuracy, max_bins=args.max_bins)
    except ValueError as err:
        raise UserError(str(err)) from None


def run_quantiles(args: argparse.Namespace) -> int:
    qs = parse_qs(args.q)
    paths = args.files or ["-"]
    sketch = quantile_sketch(args)
    tally = Tally()
    started = time.perf_counter()
    interrupted = False
    exact = None
    progress = _progress(args)
    try:
        for path in paths:
            # With --exact the reader also keeps every number it gives the sketch, in the same pass.
            read(path, args, [sketch], tally, progress, values=args.exact)
        if args.exact:
            import numpy as np

            values = np.concatenate(tally.values) if tally.values else np.empty(0)
            exact = np.quantile(values, qs, method="lower") if len(values) else np.full(len(qs), math.nan)
    except KeyboardInterrupt:
        interrupted, exact = True, None
    except OSError as err:
        raise UserError(str(err)) from None
    finally:
        if progress is not None:
            progress.close()
    elapsed = time.perf_counter() - started
    report_quantiles(args, qs, sketch, exact, tally, elapsed, interrupted)
    return 130 if interrupted else tally.status()


def _finite(x: float) -> float | None:
    """A float for JSON, which has no NaN or infinity."""
    return float(x) if math.isfinite(x) else None


def report_quantiles(
    args: argparse.Namespace,
    qs: list[float],
    sketch: Any,
    exact: Any,
    tally: Tally,
    elapsed: float,
    interrupted: bool,
) -> None:
    from sketchy import KLL

    estimates = sketch.quantiles(qs)
    rows = []
    for i, q in enumerate(qs):
        row: dict[str, Any] = {"q": q, "value": _finite(estimates[i])}
        if exact is not None:
            truth, estimate = float(exact[i]), float(estimates[i])
            row["exact"] = _finite(truth)
            if truth == estimate:
                row["relative_error"] = 0.0
            else:
                row["relative_error"] = _finite((estimate - truth) / abs(truth)) if truth else None
        rows.append(row)
    result: dict[str, Any] = {
        "items": tally.items,
        "count": sketch.count,
        "nan": sketch.nan_count,
        "min": _finite(sketch.min),
        "max": _finite(sketch.max),
        "seconds": round(elapsed, 3),
    }
    if interrupted:
        result["interrupted"] = True
    if tally.skipped:
        result["skipped"] = dict(tally.skipped)
        result["first_problem"] = tally.first_problem
    if tally.warnings:
        result["warnings"] = tally.warnings
    if isinstance(sketch, KLL):
        result["sketch"] = {"kll": {"k": sketch.k, "normalized_rank_error": sketch.normalized_rank_error}}
    else:
        result["sketch"] = {
            "ddsketch": {"relative_accuracy": sketch.relative_accuracy, "max_bins": sketch.max_bins}
        }
    result["quantiles"] = rows
    result["sketch_bytes"] = sketch.__sizeof__()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    out = []
    if interrupted:
        out.append(f"interrupted: read the first {tally.items:,} items")
    nan = f" (and {sketch.nan_count:,} NaN)" if sketch.nan_count else ""
    bounds = f", min {sketch.min:.6g}, max {sketch.max:.6g}" if sketch.count else ""
    out.append(f"values: {sketch.count:,}{nan} in {elapsed:.2f} s{bounds}")
    for reason, count in tally.skipped.items():
        out.append(f"skipped: {count:,} ({reason}; first at {tally.first_problem})")
    if isinstance(sketch, KLL):
        out.append(f"KLL k={sketch.k}: ranks within {sketch.normalized_rank_error:.2%} of the truth (99%)")
    else:
        out.append(f"DDSketch: values within {sketch.relative_accuracy:.4g} (relative) of the true quantiles")
    header = f"{'q':>8}  {'value':>14}"
    if exact is not None:
        header += f"  {'exact':>16}  {'rel. error':>10}"
    out.append(header)
    for i, row in enumerate(rows):
        line = f"{row['q']:>8.6g}  {estimates[i]:>14.6g}"
        if exact is not None:
            error = row["relative_error"]
            error_text = f"{error:+.3%}" if error is not None else "-"
            line += f"  {float(exact[i]):>16.10g}  {error_text:>10}"
        out.append(line)
    print("\n".join(out))


# --- the demo -----------------------------------------------------------------------------------------


def demo(events: int = 3_000_000, seed: int = 0) -> None:
    """A seeded Zipfian click log: sketches against an exact set and Counter."""
    import numpy as np

    import sketchy

    rng = np.random.default_rng(seed)
    users = (rng.zipf(1.3, events) % 2_000_000).tolist()
    log = [f"user-{u}" for u in users]
    print(f"sketchy {sketchy.__version__} demo: a click log of {events:,} events (Zipf users, seed {seed})\n")

    start = time.perf_counter()
    hll = sketchy.HyperLogLog(14)
    top = sketchy.TopK(10, capacity=1024)
    hll.update(log)
    top.update(log)
    sketch_seconds = time.perf_counter() - start

    start = time.perf_counter()
    exact = Counter(log)
    exact_seconds = time.perf_counter() - start
    # The Counter's table, plus the distinct strings and the counts it keeps alive.
    exact_bytes = sys.getsizeof(exact) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in exact.items())
    distinct = len(exact)

    low, high = hll.estimate_bounds(num_std=2)
    print(
        f"distinct users   sketch {hll.estimate():>12,.0f}   exact {distinct:>12,}   error {hll.estimate() / distinct - 1:+.2%}"
    )
    print(f"                 95% bounds {low:,.0f} .. {high:,.0f}")
    print(f"\ntop 10 users (TopK, error bound {top.error_bound:,})        exact")
    for (item, count), (true_item, true_count) in zip(
        top.most_common(10), exact.most_common(10), strict=False
    ):
        print(f"  {item:<14} {count:>10,}      {true_item:<14} {true_count:>10,}")
    sketch_bytes = hll.__sizeof__() + top.__sizeof__()
    print(
        f"\nmemory           sketches {sketch_bytes / 1024:>9,.0f} KiB   exact Counter {exact_bytes / 2**20:>9,.1f} MiB"
    )
    print(
        f"time             sketches {sketch_seconds:>9.2f} s     exact Counter {exact_seconds:>9.2f} s"
        f"   ({events / sketch_seconds / 1e6:.1f} M events/s through both sketches)"
    )
    same_top = [i for i, _ in top.most_common(10)] == [i for i, _ in exact.most_common(10)]
    print(f"\nsame top 10 as the exact count: {same_top}")


# --- entry point --------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sketchy", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inputs = argparse.ArgumentParser(add_help=False)
    inputs.add_argument(
        "files", nargs="*", metavar="FILE", help="input files, plain or gzip ('-' or none: stdin)"
    )
    how = inputs.add_mutually_exclusive_group()
    how.add_argument("--csv", metavar="COLUMN", help="read CSV and take this column (name or index)")
    how.add_argument("--jsonl", metavar="FIELD", help="read JSON lines and take this field (dotted path)")
    inputs.add_argument("--delimiter", default=",", help="CSV delimiter (default ',')")
    inputs.add_argument("--json", action="store_true", help="machine-readable output")
    inputs.add_argument(
        "--strict", action="store_true", help="stop at the first bad line instead of skipping it"
    )
    inputs.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    counts = argparse.ArgumentParser(add_help=False)
    counts.add_argument("--precision", type=int, default=14, help="HyperLogLog precision, 4..18 (default 14)")
    counts.add_argument("-k", type=int, default=10, help="how many top items (default 10)")
    counts.add_argument(
        "--capacity", type=int, default=1024, help="items the top-k summary tracks (default 1024)"
    )
    counts.add_argument("--seed", type=int, default=0, help="hash seed (default 0)")
    counts.add_argument(
        "--exact", action="store_true", help="also count exactly (memory grows with the input)"
    )

    commands.add_parser("distinct", parents=[inputs, counts], help="estimate the number of distinct items")
    commands.add_parser("top", parents=[inputs, counts], help="the k most frequent items")
    commands.add_parser("stats", parents=[inputs, counts], help="distinct count, top items and total")
    quantiles = commands.add_parser(
        "quantiles",
        parents=[inputs],
        help="quantiles of numbers (one per line, a CSV column or a JSON field)",
        description="Quantiles of the numbers of the input (NaN skipped and counted) with a DDSketch "
        "(values within --relative-accuracy of the true quantiles) or a KLL sketch (--kll: ranks within "
        "its rank error). A record that is not a number is skipped and counted (--strict: an error).",
    )
    quantiles.add_argument(
        "-q",
        nargs="+",
        default=["0.5", "0.9", "0.99", "0.999"],
        metavar="Q",
        help="quantiles in [0, 1], separated by spaces or commas (default 0.5 0.9 0.99 0.999)",
    )
    quantiles.add_argument(
        "--relative-accuracy", type=float, default=0.01, help="DDSketch relative accuracy (default 0.01)"
    )
    quantiles.add_argument("--max-bins", type=int, default=2048, help="DDSketch bins, at most (default 2048)")
    quantiles.add_argument("--kll", action="store_true", help="a KLL sketch instead of a DDSketch")
    quantiles.add_argument("--k", type=int, help="KLL k, its size and accuracy (default 200; with --kll)")
    quantiles.add_argument(
        "--exact",
        action="store_true",
        help="also compute the exact quantiles (holds every value in memory, 8 bytes each)",
    )
    run_demo = commands.add_parser("demo", help="run on a built-in sample: estimates vs exact answers")
    run_demo.add_argument(
        "-n", "--events", type=int, default=3_000_000, help="events in the sample (default 3,000,000)"
    )
    run_demo.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "demo":
            demo(args.events, args.seed)
            return 0
        if args.command == "quantiles":
            return run_quantiles(args)
        if not 1 <= args.k <= 1 << 24:
            raise UserError(f"-k must be in [1, 2**24], got {args.k}")
        if not 4 <= args.precision <= 18:
            raise UserError(f"--precision must be in [4, 18], got {args.precision}")
        return run(args, distinct=args.command in ("distinct", "stats"), top=args.command in ("top", "stats"))
    except UserError as err:
        print(f"sketchy: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `sketchy top ... | head`: the reader went away; not an error of ours.
        sys.stderr.close()
        return 0
