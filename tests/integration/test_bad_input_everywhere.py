"""Issue 12: the bad-input corpus (tests/fixtures/bad_inputs/) through every entry point,
each case held to a clear error, no crash, no stuck lead, no lost event. The same runs
print their counts with `python -m tests.edges`."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.edges import entries, files_and_queues, http
from tests.edges.entries import Target
from tests.edges.verdicts import Verdict
from tests.integration.helpers import RunningWorker
from tests.workflows.fakes import enroll
from workflows import names

pytestmark = pytest.mark.integration


@pytest.fixture
def target(worker: RunningWorker) -> Target:
    return Target(worker.client, worker.address, worker.task_queue)


def start_lead(target: Target):
    async def start():
        lead_id = f"edge-{uuid.uuid4().hex[:10]}"
        return await target.client.start_workflow(
            names.WORKFLOW_TYPE, enroll("nurture", lead_id=lead_id), id=names.workflow_id(lead_id),
            task_queue=target.task_queue,
        )  # fmt: skip

    return start


def assert_all_clear(verdicts: list[Verdict], *, at_least: int) -> None:
    assert len(verdicts) >= at_least
    assert [str(v) for v in verdicts if v.outcome != "clear"] == []


async def test_the_stock_temporal_cli_start(target: Target) -> None:
    assert_all_clear(await entries.stock_cli_starts(target), at_least=28)


async def test_the_python_client_enroll(target: Target) -> None:
    assert_all_clear(await entries.python_client_starts(target), at_least=28)


async def test_touchpoint_enroll_json(target: Target, tmp_path: Path) -> None:
    assert_all_clear(await entries.touchpoint_cli_enrolls(target, tmp_path), at_least=28)


async def test_touchpoint_enroll_csv(target: Target, tmp_path: Path) -> None:
    assert_all_clear(await files_and_queues.csv_imports(target, tmp_path), at_least=12)


async def test_the_stock_temporal_cli_signal(target: Target) -> None:
    assert_all_clear(await entries.stock_cli_signals(target, start_lead(target)), at_least=18)


async def test_the_python_client_events(target: Target) -> None:
    assert_all_clear(await entries.python_client_signals(target, start_lead(target)), at_least=11)


async def test_the_web_apps_http_routes(target: Target, tmp_path: Path) -> None:
    assert_all_clear(await http.http_requests(target, tmp_path), at_least=21)


async def test_the_ingest_queues(moto_endpoint: str, tmp_path: Path) -> None:
    assert_all_clear(await files_and_queues.ingest_messages(moto_endpoint, tmp_path), at_least=13)
