"""`python -m tests.faults` (what `make faults` runs): the fault run, with its counts.

Exits 1 when any touch was lost or duplicated, any email went unrecorded, any lead is
in the wrong mode or any event took effect twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from tests.faults.scenario import FaultPlan, run_faults


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=FaultPlan.leads, help="leads to enroll (default %(default)s)")
    parser.add_argument("--seed", type=int, default=FaultPlan.seed, help="random seed of the fault moments")
    parser.add_argument("--out", type=Path, default=Path("var/faults.json"), help="JSON report (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs, outbox, database)")
    args = parser.parse_args(argv)
    if args.leads < 10:
        parser.error("--leads must be at least 10")

    work_dir = Path(tempfile.mkdtemp(prefix="touchpoint-faults-"))
    # The SDK logs every retry while a server is down: into a file, not over the figures.
    logging.basicConfig(filename=work_dir / "faults.log", level=logging.WARNING)
    try:
        report = asyncio.run(run_faults(FaultPlan(leads=args.leads, seed=args.seed), work_dir))
    finally:
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    print("\n".join(report.lines()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {**asdict(report), "counts": report.counts.as_dict(), "failures": report.counts.failures}, indent=2
        )
        + "\n"
    )
    print(f"report: {args.out}" + (f"; files kept in {work_dir}" if args.keep else ""))
    return 1 if report.counts.failures or not report.settled else 0


if __name__ == "__main__":
    sys.exit(main())
