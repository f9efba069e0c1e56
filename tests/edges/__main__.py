"""`python -m tests.edges`: the bad-input corpus through every entry point, on servers of
its own (a dev server, a worker, moto), and the counts; exits 1 unless every case is clear."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

from tests.edges.entries import (
    Target,
    python_client_signals,
    python_client_starts,
    stock_cli_signals,
    stock_cli_starts,
    touchpoint_cli_enrolls,
)  # fmt: skip
from tests.edges.files_and_queues import csv_imports, ingest_messages
from tests.edges.http import http_requests
from tests.edges.verdicts import Verdict, table
from tests.support.servers import moto_server, start_dev_server
from tests.workflows.fakes import enroll
from workers.settings import Settings
from workers.worker import build_worker


async def every_entry_point(target: Target, moto_endpoint: str, tmp: Path) -> list[Verdict]:
    async def start_lead():
        lead_id = f"edge-{uuid.uuid4().hex[:10]}"
        return await target.client.start_workflow(
            "LeadWorkflow", enroll("nurture", lead_id=lead_id), id=f"lead-{lead_id}", task_queue=target.task_queue
        )

    verdicts: list[Verdict] = []
    verdicts += await stock_cli_starts(target)
    verdicts += await python_client_starts(target)
    verdicts += await touchpoint_cli_enrolls(target, tmp)
    verdicts += await csv_imports(target, tmp)
    verdicts += await stock_cli_signals(target, start_lead)
    verdicts += await python_client_signals(target, start_lead)
    verdicts += await ingest_messages(moto_endpoint, tmp)
    verdicts += await http_requests(target, tmp)
    return verdicts


async def main() -> int:
    with tempfile.TemporaryDirectory() as directory, moto_server() as moto_endpoint:
        tmp = Path(directory)
        async with await start_dev_server() as env:
            address = env.client.service_client.config.target_host
            task_queue = f"edges-{uuid.uuid4().hex[:8]}"
            settings = Settings(temporal_address=address, task_queue=task_queue, var_dir=tmp / "var")
            async with build_worker(env.client, settings):
                verdicts = await every_entry_point(Target(env.client, address, task_queue), moto_endpoint, tmp)
    print(table(verdicts))
    for verdict in verdicts:
        if verdict.outcome != "clear":
            print(f"  {verdict}")
    return 0 if all(v.outcome == "clear" for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
