"""`touchpoint ingest`: what happens to a touch after it leaves, delivered to its lead.

The process around the inbound consumer (activities/inbound/consumer.py): it long-polls
the SQS queues of SES events, inbound mail and inbound texts, and signals each lead's
workflow through the Touchpoint client. Counters are logged every
`report_every_seconds` and on stop (`ingest stats`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

import structlog

from activities.common.aws import aws_client
from activities.inbound.config import IngestConfig
from activities.inbound.consumer import ClosedLead, Ingestor, InvalidSignal, NoSuchLead
from activities.inbound.ses_events import Signal
from activities.inbound.sns_signatures import fetch_certificate
from activities.stores.ledger import build_ledger
from starter.client import TouchpointClient
from starter.errors import InvalidInput, LeadClosed, LeadNotFound
from workers.process import BadConfig, connect_or_exit, run_process
from workers.settings import Settings, env_name
from workers.shutdown import stop_signals

log = structlog.get_logger("touchpoint.ingest")


class SignalSender:
    """The consumer's `send`: the three event signals through TouchpointClient, whose
    refusals become the consumer's exceptions (Temporal's errors it already translated)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def __call__(self, signal: Signal) -> None:
        send: Callable[[str, Mapping[str, Any]], Awaitable[None]] = getattr(self._client, signal.name)
        try:
            await send(signal.lead_id, signal.payload)
        except LeadNotFound as err:
            raise NoSuchLead(str(err)) from err
        except LeadClosed as err:
            raise ClosedLead(str(err)) from err
        except InvalidInput as err:
            raise InvalidSignal(str(err)) from err


# ------------------------------------------------------------------ process


async def run_ingest(settings: Settings) -> None:
    """The `touchpoint ingest` process: until SIGTERM/SIGINT, then finish the batch."""
    config: IngestConfig | None = settings.inbound.ingest
    if config is None:
        raise BadConfig(
            f"set {env_name('ingest')} to a JSON object naming the queues, e.g. "
            '{"region": "us-east-1", "events_queue_url": "https://sqs…/touchpoint-events", '
            '"dead_letter_queue_url": "https://sqs…/touchpoint-events-dlq"}'
        )
    secrets = settings.delivery.token_secrets
    if config.replies_queue_url and not secrets:
        raise BadConfig(
            f"replies are matched by the signed reply-to address: set {env_name('token_secret')} "
            "to the workers' secret"
        )
    client = TouchpointClient(await connect_or_exit(settings), task_queue=settings.connection.task_queue)
    sqs = aws_client("sqs", region=config.region, endpoint_url=config.endpoint_url)
    s3 = aws_client("s3", region=config.region, endpoint_url=config.endpoint_url)
    ingestor = Ingestor(
        config,
        sqs=sqs,
        s3=s3,
        send=SignalSender(client),
        ledger=build_ledger(settings.stores.ledger, beside=settings.delivery.outbox_dir),
        reply_secrets=secrets,
        fetch_certificate=fetch_certificate,
    )
    stop = asyncio.Event()
    with stop_signals() as stopped:
        stopped.add_done_callback(lambda _: stop.set())
        log.info("ingest started", queues=sorted(config.queues()))
        started = time.monotonic()
        await ingestor.run(stop)
    log.info("ingest stopped", seconds=round(time.monotonic() - started, 1))


def main() -> NoReturn:
    """`python -m workers.ingest` and `touchpoint ingest`."""
    run_process("touchpoint ingest", run_ingest)


if __name__ == "__main__":
    main()
