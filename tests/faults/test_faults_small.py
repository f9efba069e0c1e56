"""A small fault run inside `make test`: one worker SIGKILL and every event three times.

The kill lands in the pause after a burst of touches, so no send is cut off: a cut-off
send is retried only after its 2-minute timeout, which `make faults` (random moments,
three kills, a server restart) waits out and this test has no time for.
"""

from pathlib import Path

import pytest

from tests.faults.scenario import FaultPlan, run_faults

pytestmark = pytest.mark.integration


@pytest.mark.timeout(120)
async def test_a_killed_worker_and_events_sent_three_times_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    plan = FaultPlan(leads=40, day_seconds=3.0, worker_kills=1, server_restarts=0, between_touches=True, seed=11)

    report = await run_faults(plan, tmp_path)

    counts = report.counts
    assert report.settled, "\n".join(report.lines())
    assert report.worker_kills == 1
    assert report.signals_sent == 3 * (report.replied + report.opened)
    assert counts.leads == 40
    assert counts.emails >= 5 * (40 - report.replied)
    assert counts.lost_touches == 0
    assert counts.duplicate_touches == 0
    assert counts.unrecorded_emails == 0
    assert counts.wrong_modes == 0
    assert counts.repeated_event_effects == 0
