"""The whole bench: its own dev server, every phase in turn, the figures with the machine's."""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import temporalio

from tests.bench import phases
from tests.bench.report import as_json, metrics, notes
from tests.bench.server import DevServer, server_version, temporal_version
from tests.bench.settings import explicit_settings


@dataclass(frozen=True, kw_only=True)
class Sizes:
    # Leads per throughput run (baseline and Touchpoint each) and per enrollment variant.
    leads: int = 300
    enroll_leads: int = 300
    # Leads held in the worker's cache for the memory figure, and replies timed on them.
    # The dev server starts about 17 leads a second on 2 cores: 10,000 take 10 minutes
    # on their own (`--cached-leads 10000`); the figure per lead is the same.
    cached_leads: int = 3_000
    warmup_leads: int = 200
    replies: int = 500
    # Few leads: each sends a touch every simulated month, and a worker that falls
    # behind sends late touches without their timers, which would flatter the figure.
    history_leads: int = 5
    history_years: int = 2
    months_per_second: float = 1.0
    # One cadence day per second: the 10-day follow-up takes 10 s a lead.
    throughput_speedup: float = phases.THROUGHPUT_SPEEDUP
    # Baseline and Touchpoint runs each (order B T T B...).
    throughput_rounds: int = 2

    @classmethod
    def quick(cls) -> Sizes:
        """A few leads per phase: checks the bench works, measures little."""
        return cls(
            leads=20,
            enroll_leads=20,
            cached_leads=60,
            warmup_leads=20,
            replies=20,
            history_leads=2,
            history_years=1,
            months_per_second=1.0,
            throughput_speedup=phases.THROUGHPUT_SPEEDUP * 10,
            throughput_rounds=1,
        )


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "temporalio": temporalio.__version__,
        "temporal_cli": temporal_version(),
        # Other processes share the cores: a busy machine gives lower figures.
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }


async def run_bench(sizes: Sizes, work_dir: Path, *, profile_dir: Path | None = None) -> dict[str, Any]:
    """Run every phase against a dev server started here; the server is stopped on return."""
    started = time.monotonic()
    result: dict[str, Any] = {"machine": machine(), "sizes": asdict(sizes)}
    server = DevServer(db_file=None, log_file=work_dir / "temporal-server.log")
    try:
        client = await server.start()
        result["machine"]["temporal_server"] = await server_version(client)
        defaults = explicit_settings()
        result["setup"] = {
            "server": f"temporal server start-dev, in-memory SQLite, {server.address}",
            "worker": "one process per phase (tests.bench.bench_worker), built like `python -m workers`",
            "worker_settings": {
                "max_concurrent_activities": defaults.process.max_concurrent_activities,
                "max_cached_workflows": defaults.process.max_cached_workflows,
                "log_format": "json",
                "log_level": defaults.process.log_level,
            },
            "start_concurrency": phases.START_CONCURRENCY,
            "reply_rate_per_s": phases.REPLY_RATE,
        }
        bench = phases.Bench(client=client, server=server, work_dir=work_dir, profile_dir=profile_dir)
        done: dict[str, Any] = {}
        result["phases"] = done
        steps = (
            (
                "throughput",
                lambda: phases.throughput(
                    bench, leads_count=sizes.leads, speedup=sizes.throughput_speedup, rounds=sizes.throughput_rounds
                ),
            ),
            (
                "codec",
                lambda: phases.codec_cost(
                    bench, leads_count=sizes.leads, speedup=sizes.throughput_speedup, rounds=sizes.throughput_rounds
                ),
            ),
            ("enrollment", lambda: phases.enrollment(bench, leads_count=sizes.enroll_leads)),
            (
                "history",
                lambda: phases.history_per_year(
                    bench,
                    leads_count=sizes.history_leads,
                    years=sizes.history_years,
                    months_per_second=sizes.months_per_second,
                ),
            ),
            (
                "cached",
                lambda: phases.cached_leads(
                    bench, leads_count=sizes.cached_leads, replies=sizes.replies, warmup=sizes.warmup_leads
                ),
            ),
        )
        for name, step in steps:
            phase_started = time.monotonic()
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            measured = await step()
            if name == "throughput":
                done["baseline"], done["touchpoint"] = measured
            else:
                done[name] = measured
                done[name]["phase_seconds"] = round(time.monotonic() - phase_started, 1)
    finally:
        server.stop()
    result["metrics"] = as_json(metrics(result["phases"]))
    result["notes"] = notes(result["phases"])
    result["seconds"] = round(time.monotonic() - started, 1)
    return result
