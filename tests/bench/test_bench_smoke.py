"""The bench runs end to end: every phase with a handful of leads, every figure present.

Sizes this small measure nothing worth comparing with the targets; `make bench` does that.
"""

import json
import math
from pathlib import Path

import pytest

from tests.bench.report import metrics
from tests.bench.suite import Sizes, run_bench

pytestmark = pytest.mark.integration

EXPECTED_METRICS = (
    "baseline touches/s",
    "Touchpoint touches/s",
    "touch throughput, Touchpoint / baseline",
    "worker CPU per touch, baseline",
    "worker CPU per touch, Touchpoint",
    "enroll: bare start_workflow",
    "enroll: TouchpointClient.enroll_many",
    "enroll_many / bare start",
    "enroll: CSV import",
    "CSV import / bare start",
    "reply -> awaiting_rep p50",
    "reply -> awaiting_rep p99",
    "worker memory per cached lead",
    "history events per lead per simulated year",
    "worker CPU per touch, codec on / off",
)


@pytest.mark.timeout(240)
async def test_every_bench_figure_is_measured_and_positive(tmp_path: Path) -> None:
    result = await run_bench(Sizes.quick(), tmp_path)

    written = json.loads(json.dumps(result))
    values = {row["name"]: row["value"] for row in written["metrics"]}
    for expected in EXPECTED_METRICS:
        matching = [value for name, value in values.items() if name.startswith(expected)]
        assert matching, f"no figure for {expected!r} in {sorted(values)}"
        assert all(math.isfinite(value) and value > 0 for value in matching), (expected, matching)
    targets = [row for row in written["metrics"] if row["target"] is not None]
    assert len(targets) == 6 and all(isinstance(row["passed"], bool) for row in targets)
    assert written["machine"]["cpu_count"] >= 1
    assert written["machine"]["temporalio"] and written["machine"]["temporal_server"]
    assert written["phases"]["touchpoint"]["touches"] >= 5 * Sizes.quick().leads
    assert len(metrics(result["phases"])) == len(written["metrics"])


async def test_the_ingest_bench_runs_and_reports_every_figure() -> None:
    from tests.bench.ingest import measure, parse_rates

    figures = {**await measure(40, 4), **parse_rates(repeat=1)}
    assert figures["events"] == 40
    for key in ("direct_signals_per_s", "ingest_events_per_s", "ratio", "ses_events_parsed_per_s",
                "replies_classified_per_s"):
        assert figures[key] > 0, key
