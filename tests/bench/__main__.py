"""`python -m tests.bench` (what `make bench` runs): Touchpoint's overhead over bare Temporal.

Starts its own dev server on 127.0.0.1, runs every phase, prints the table and writes
the figures as JSON. Exits 0 when the bench ran (targets missed or not; `--strict`
makes a missed target exit 1), 1 when a phase failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from tests.bench.report import metrics, notes, table
from tests.bench.suite import Sizes, run_bench


def main(argv: list[str] | None = None) -> int:
    defaults = Sizes()
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--leads", type=int, default=None,
        help=f"leads per throughput run and per enrollment variant (default {defaults.leads})",
    )  # fmt: skip
    parser.add_argument(
        "--cached-leads", type=int, default=None,
        help=f"leads held in the worker's cache for the memory figure (default {defaults.cached_leads:,})",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="a handful of leads per phase (checks, not figures)")
    parser.add_argument("--out", type=Path, default=Path("var/bench.json"), help="JSON file (default %(default)s)")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="record each worker with py-spy into DIR")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, outboxes)")
    args = parser.parse_args(argv)

    sizes = Sizes.quick() if args.quick else defaults
    if args.leads is not None:
        if args.leads < 2:
            parser.error("--leads must be at least 2")
        sizes = replace(sizes, leads=args.leads, enroll_leads=args.leads)
    if args.cached_leads is not None:
        sizes = replace(sizes, cached_leads=args.cached_leads, replies=min(sizes.replies, args.cached_leads))

    work_dir = Path(tempfile.mkdtemp(prefix="touchpoint-bench-"))
    # Warnings (the SDK's retries, say) go to a file, not over the table.
    logging.basicConfig(filename=work_dir / "bench.log", level=logging.WARNING)
    try:
        result = asyncio.run(run_bench(sizes, work_dir, profile_dir=args.profile))
    finally:
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    rows = metrics(result["phases"])
    machine = result["machine"]
    print(
        f"Touchpoint bench: {machine['cpu_count']} cores, Python {machine['python']}, temporalio "
        f"{machine['temporalio']}, Temporal server {machine['temporal_server']}, load "
        f"{machine['load_average_at_start'][0]} at start, {result['seconds']:.0f} s"
    )
    print(table(rows))
    for note in notes(result["phases"]):
        print(f"note: {note}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"figures: {args.out}" + (f"; files kept in {work_dir}" if args.keep else ""))
    missed = [row for row in rows if row.passed is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
