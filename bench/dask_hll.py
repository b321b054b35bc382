"""Distinct count of a 20M-row integer column on a 2-worker Dask cluster: ``sketchy.dask.hyperloglog``
against one process doing the same ``update`` calls chunk by chunk, and against Dask's own
``nunique_approx``.

Usage: ``python bench/dask_hll.py [--rows 20000000] [--chunks 16] [--high 5100000] [--repeat 3]``.
The column (seeded random int64 in ``[0, high)``: about 5M distinct values for the defaults) is
generated inside the worker processes; the single process generates the same chunks itself (same
seeds, same values). Two tables of wall times (median and best of ``--repeat`` runs), estimates and
relative errors against the exact count (numpy ``unique``, computed once): counting only (the column
already in memory: persisted in the workers, a list of arrays in the single process), and end to end
(each run generates the column again and counts it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import dask.array as da
import dask.dataframe as dd
import numpy as np
from distributed import Client, LocalCluster, wait

import sketchy
import sketchy.dask
from sketchy import HyperLogLog


def timed(
    run: Callable[[], float], repeat: int, settle: Callable[[], None] = lambda: None
) -> tuple[float, float, float]:
    """(median seconds, best seconds, estimate of the last run); ``settle`` runs between runs, untimed."""
    times = []
    for _ in range(repeat):
        settle()
        start = time.perf_counter()
        estimate = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), estimate


def settled(client: Client) -> Callable[[], None]:
    """Waits until the scheduler holds no more tasks than now: the results of a finished run are
    released asynchronously, and a rerun with the same keys (Dask's keys are deterministic) would
    otherwise be served from memory instead of computed."""
    baseline = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))

    def settle() -> None:
        deadline = time.monotonic() + 30
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) > baseline:
            if time.monotonic() > deadline:
                raise TimeoutError("the scheduler still holds the tasks of the previous run")
            time.sleep(0.05)

    return settle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--chunks", type=int, default=16)
    parser.add_argument("--high", type=int, default=5_100_000, help="values are drawn from [0, high)")
    parser.add_argument("--precision", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    column = da.random.default_rng(args.seed).integers(
        0, args.high, size=args.rows, chunks=-(-args.rows // args.chunks), dtype=np.int64
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")

    # One process: the same chunks, generated here (same seeds, same values), one `update` each.
    parts = list(column.to_delayed().ravel())
    start = time.perf_counter()
    chunks = [part.compute(scheduler="sync") for part in parts]
    generate = time.perf_counter() - start
    exact = int(np.unique(np.concatenate(chunks)).size)

    def one_process() -> float:
        hll = HyperLogLog(args.precision)
        for chunk in chunks:
            hll.update(chunk)
        one_process.sketch = hll  # type: ignore[attr-defined]
        return hll.estimate()

    def one_process_generating() -> float:
        hll = HyperLogLog(args.precision)
        for part in parts:
            hll.update(part.compute(scheduler="sync"))
        return hll.estimate()

    counting = [("one process, `update` per chunk", *timed(one_process, args.repeat))]
    end_to_end = [("one process, generate + `update` per chunk", *timed(one_process_generating, args.repeat))]
    single = one_process.sketch  # type: ignore[attr-defined]

    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        workers = len(client.scheduler_info()["workers"])

        def sketchy_dask(data: da.Array) -> Callable[[], float]:
            def run() -> float:
                hll = sketchy.dask.hyperloglog(data, args.precision)
                run.sketch = hll  # type: ignore[attr-defined]
                return hll.estimate()

            return run

        def dask_nunique_approx(data: da.Array) -> Callable[[], float]:
            return lambda: float(dd.from_dask_array(data).nunique_approx().compute())

        # End to end: each run generates the column in the workers again and counts it.
        settle = settled(client)
        for name, run in (
            ("`sketchy.dask.hyperloglog`", sketchy_dask),
            ("Dask `nunique_approx`", dask_nunique_approx),
        ):
            end_to_end.append((f"{name}, {workers} workers", *timed(run(column), args.repeat, settle)))

        # Counting only: the column persisted in the workers' memory first.
        start = time.perf_counter()
        persisted = column.persist()
        wait(persisted)
        persist = time.perf_counter() - start
        settle = settled(client)
        run = sketchy_dask(persisted)
        counting.append((f"`sketchy.dask.hyperloglog`, {workers} workers", *timed(run, args.repeat, settle)))

        def gather_then_update() -> float:
            values = persisted.compute()  # 8 bytes a row over the network to the client
            # What arrives from the workers may be unaligned, which `update` refuses: copy if so.
            hll = HyperLogLog(args.precision)
            hll.update(np.require(values, requirements=("C", "A")))
            return hll.estimate()

        counting.append(
            ("gather to the client, then one `update`", *timed(gather_then_update, args.repeat, settle))
        )
        nunique = dask_nunique_approx(persisted)
        counting.append((f"Dask `nunique_approx`, {workers} workers", *timed(nunique, args.repeat, settle)))
        merged = run.sketch  # type: ignore[attr-defined]

    print(
        f"\n{args.rows:,} int64 rows in {args.chunks} chunks, {exact:,} distinct (numpy unique); "
        f"HyperLogLog precision {args.precision}; sketchy {sketchy.__version__}\n"
        f"generating the chunks in one process: {generate:.2f} s; in the 2 workers (persist): {persist:.2f} s\n"
    )
    for title, rows in (
        ("counting only (data already in memory)", counting),
        ("end to end (generate + count)", end_to_end),
    ):
        print(f"\n{title}\n")
        print(f"| method | wall time (median of {args.repeat}) | best | estimate | relative error |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, median, best, estimate in rows:
            print(
                f"| {name} | {median:.3f} s | {best:.3f} s | {estimate:,.0f} | {estimate / exact - 1:+.3%} |"
            )
    print(
        f"\nthe merged sketch == the one-process sketch (same registers): {merged == single}; "
        f"the merged sketch uses Ertl's estimator, the one-pass sketch HIP "
        f"(same registers, different estimates)."
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
