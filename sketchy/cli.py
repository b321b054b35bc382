"""The ``sketchy`` command line: distinct counts and top-k frequencies of big inputs, in bounded memory.

::

    sketchy distinct access.log.gz                 # how many distinct lines?
    sketchy top -k 20 --csv user events.csv        # the 20 most frequent users
    sketchy stats --jsonl request.ip logs.jsonl    # both, and the number of items
    sketchy demo                                   # a built-in sample: estimates vs exact answers

Inputs are files or ``-`` (stdin), plain or gzip-compressed. Lines are read in large blocks and
handed to the sketches in batches (no Python object per line in the default line mode), so memory
stays bounded whatever the input size; ``--exact`` also keeps every item, to show the error.
"""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

BLOCK = 2 << 20  # bytes read at a time in line mode: a few copies of it are all the memory we use
ROWS = 1 << 16  # CSV rows or JSON lines per batch


class UserError(Exception):
    """A mistake in the input or the arguments: one line on stderr, exit status 2."""


@dataclass
class Tally:
    """What was read, for the report."""

    items: int = 0
    lines: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    first_problem: str | None = None

    def problem(self, reason: str, where: str, strict: bool) -> None:
        if strict:
            raise UserError(f"{where}: {reason} (--strict)")
        self.skipped[reason] += 1
        if self.first_problem is None:
            self.first_problem = f"{where}: {reason}"


# --- reading ------------------------------------------------------------------------------------------


def open_input(path: str) -> tuple[IO[bytes], IO[bytes], int | None]:
    """(stream to read, raw file for progress, size in bytes or None); gzip detected by its magic."""
    try:
        if path == "-":
            raw: IO[bytes] = sys.stdin.buffer
            size = None
        else:
            raw = open(path, "rb")
            size = os.fstat(raw.fileno()).st_size
    except OSError as err:
        raise UserError(f"cannot open {path!r}: {err.strerror or err}") from None
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=buffered), buffered, size
    return buffered, buffered, size


def line_batches(stream: IO[bytes], source: str, tally: Tally, strict: bool) -> Iterator[Any]:
    """Batches of lines (without their line ends) as `VarItems`: split with numpy, no object per line."""
    import numpy as np

    from sketchy._batch import VarItems

    rest = b""
    while True:
        block = stream.read1(BLOCK) if hasattr(stream, "read1") else stream.read(BLOCK)
        last = not block
        data = rest + block
        if not data:
            return
        buf = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buf == 10)
        if last and (len(ends) == 0 or ends[-1] != len(buf) - 1):
            ends = np.append(ends, len(buf))  # a last line without its newline
        cut = int(ends[-1]) + 1 if len(ends) else 0
        rest = data[cut:] if not last else b""
        if len(ends) == 0:
            continue
        starts = np.concatenate(([0], ends[:-1] + 1))
        lengths = ends - starts
        # "\r\n" line ends lose their "\r" too.
        has_cr = (lengths > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
        lengths = lengths - has_cr
        keep = np.ones(len(buf), dtype=bool)
        keep[ends[ends < len(buf)]] = False
        keep[(ends - 1)[has_cr]] = False
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        items = VarItems(offsets, buf[keep])
        first_line = tally.lines + 1
        tally.lines += len(lengths)
        if not _valid_utf8(items):
            items = _drop_undecodable(items, source, first_line, tally, strict)
        yield items
        if last:
            return


def _valid_utf8(items: Any) -> bool:
    if len(items.data) == 0 or int(items.data.max()) < 0x80:
        return True  # ASCII, the common case: checked without a copy
    try:
        str(memoryview(items.data), "utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _drop_undecodable(items: Any, source: str, first_line: int, tally: Tally, strict: bool) -> Any:
    """The lines of a block that are valid UTF-8 (the rare slow path: line by line)."""
    import numpy as np

    from sketchy._batch import VarItems

    raw = items.data.tobytes()
    keep: list[int] = []
    for i in range(len(items)):
        line = raw[items.offsets[i] : items.offsets[i + 1]]
        try:
            line.decode("utf-8")
            keep.append(i)
        except UnicodeDecodeError:
            tally.problem("undecodable bytes (not UTF-8)", f"{source}:{first_line + i}", strict)
    starts, ends = items.offsets[:-1][keep], items.offsets[1:][keep]
    data = b"".join(raw[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True))
    offsets = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(ends - starts, out=offsets[1:])
    return VarItems(offsets, np.frombuffer(data, dtype=np.uint8))


def _text(stream: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")


def csv_batches(
    stream: IO[bytes], source: str, column: str, delimiter: str, tally: Tally, strict: bool
) -> Iterator[list[str]]:
    import csv

    text = _text(stream)
    reader = csv.reader(_safe_lines(text, source, tally, strict), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as err:
        raise UserError(f"{source}: malformed CSV header: {err}") from None
    tally.lines += 1
    if column.isdigit() and column not in header:
        index = int(column)
    elif column in header:
        index = header.index(column)
    else:
        raise UserError(f"{source}: no column {column!r} (columns: {', '.join(header)})")
    batch: list[str] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            tally.lines += 1
            tally.problem(f"malformed CSV row ({err})", f"{source}:{reader.line_num}", strict)
            continue
        tally.lines += 1
        if index >= len(row):
            tally.problem(f"row has no column {column!r}", f"{source}:{reader.line_num}", strict)
            continue
        batch.append(row[index])
        if len(batch) >= ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _safe_lines(text: io.TextIOWrapper, source: str, tally: Tally, strict: bool) -> Iterator[str]:
    """Lines of text; an undecodable line is reported and skipped (re-reading the rest)."""
    raw = text.buffer
    text.detach()
    line_number = 0
    for line in raw:
        line_number += 1
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            tally.problem("undecodable bytes (not UTF-8)", f"{source}:{line_number}", strict)


def jsonl_batches(
    stream: IO[bytes], source: str, path: str, tally: Tally, strict: bool
) -> Iterator[list[Any]]:
    keys = path.split(".")
    batch: list[Any] = []
    for number, line in enumerate(stream, start=tally.lines + 1):
        tally.lines += 1
        if not line.strip():
            continue
        try:
            value: Any = json.loads(line)
        except (UnicodeDecodeError, ValueError) as err:
            tally.problem(f"malformed JSON ({err.__class__.__name__})", f"{source}:{number}", strict)
            continue
        for key in keys:
            if isinstance(value, dict) and key in value:
                value = value[key]
            elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            else:
                value = None
                break
        if value is None:
            tally.problem(f"missing field {path!r}", f"{source}:{number}", strict)
            continue
        if isinstance(value, bool):
            value = str(value).lower()
        if not isinstance(value, (str, int, float)):
            tally.problem(f"field {path!r} is not a string or a number", f"{source}:{number}", strict)
            continue
        batch.append(value)
        if len(batch) >= ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


# --- the sketches and the report ----------------------------------------------------------------------


class Counting:
    """The sketches a command needs, fed batch by batch, and the exact answers with --exact."""

    def __init__(self, args: argparse.Namespace, distinct: bool, top: bool) -> None:
        from sketchy import HyperLogLog, TopK

        self.hll = HyperLogLog(args.precision, seed=args.seed) if distinct else None
        self.top = TopK(args.k, seed=args.seed, capacity=max(args.capacity, args.k)) if top else None
        self.exact: Counter | None = Counter() if args.exact else None

    def add(self, batch: Any) -> None:
        if self.hll is not None:
            self.hll.update(batch)
        if self.top is not None:
            self.top.update(batch)
        if self.exact is not None:
            self.exact.update(_python_items(batch))

    def memory(self) -> int:
        return sum(s.__sizeof__() for s in (self.hll, self.top) if s is not None)


def _python_items(batch: Any) -> list[Any]:
    if isinstance(batch, list):
        return batch
    raw = batch.data.tobytes()
    offsets = batch.offsets.tolist()
    return [raw[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]


def run(args: argparse.Namespace, distinct: bool, top: bool) -> int:
    counting = Counting(args, distinct, top)
    tally = Tally()
    started = time.perf_counter()
    interrupted = False
    progress = _progress(args)
    try:
        for path in args.files or ["-"]:
            stream, raw, size = open_input(path)
            source = "<stdin>" if path == "-" else path
            if progress is not None:
                progress.reset(total=size)
                progress.set_description(source)
            try:
                if args.csv is not None:
                    batches: Iterator[Any] = csv_batches(
                        stream, source, args.csv, args.delimiter, tally, args.strict
                    )
                elif args.jsonl is not None:
                    batches = jsonl_batches(stream, source, args.jsonl, tally, args.strict)
                else:
                    batches = line_batches(stream, source, tally, args.strict)
                position = 0
                for batch in batches:
                    counting.add(batch)
                    tally.items += len(batch)
                    if progress is not None and path != "-":
                        now = raw.tell()
                        progress.update(now - position)
                        position = now
                        rate = tally.items / max(time.perf_counter() - started, 1e-9)
                        progress.set_postfix_str(f"{tally.items:,} items, {rate:,.0f} items/s", refresh=False)
            except OSError as err:
                raise UserError(f"cannot read {source!r}: {err}") from None
            finally:
                if path != "-":
                    raw.close()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if progress is not None:
            progress.close()
    elapsed = time.perf_counter() - started
    report(args, counting, tally, elapsed, interrupted)
    return 130 if interrupted else 0


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
    hll, top, exact = counting.hll, counting.top, counting.exact
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
    how.add_argument("--csv", metavar="COLUMN", help="read CSV and count this column (name or index)")
    how.add_argument("--jsonl", metavar="FIELD", help="read JSON lines and count this field (dotted path)")
    inputs.add_argument("--delimiter", default=",", help="CSV delimiter (default ',')")
    inputs.add_argument("--precision", type=int, default=14, help="HyperLogLog precision, 4..18 (default 14)")
    inputs.add_argument("-k", type=int, default=10, help="how many top items (default 10)")
    inputs.add_argument(
        "--capacity", type=int, default=1024, help="items the top-k summary tracks (default 1024)"
    )
    inputs.add_argument("--seed", type=int, default=0, help="hash seed (default 0)")
    inputs.add_argument(
        "--exact", action="store_true", help="also count exactly (memory grows with the input)"
    )
    inputs.add_argument("--json", action="store_true", help="machine-readable output")
    inputs.add_argument(
        "--strict", action="store_true", help="stop at the first bad line instead of skipping it"
    )
    inputs.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    commands.add_parser("distinct", parents=[inputs], help="estimate the number of distinct items")
    commands.add_parser("top", parents=[inputs], help="the k most frequent items")
    commands.add_parser("stats", parents=[inputs], help="distinct count, top items and total")
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
