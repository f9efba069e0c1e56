"""The Touchpoint worker: runs LeadWorkflow and its activities on one task queue."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import NoReturn

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.common.aws import aws_client
from activities.registry import build_activities, load_and_check
from workers.interceptors import LeadLogContextInterceptor
from workers.process import connect_or_exit, run_process
from workers.settings import Settings
from workers.shutdown import stop_signals
from workflows import names
from workflows.lead import LeadWorkflow
from workflows.sandbox import workflow_runner

log = structlog.get_logger(__name__)


def load_activities(settings: Settings) -> list[Callable]:
    """Validate every cadence and template, then build the activities.

    Raises the activities' own error, naming the file, step and field, when one is invalid.
    """
    store, renderer = load_and_check(settings.content)
    return build_activities(
        content=settings.content,
        delivery=settings.delivery,
        stores=settings.stores,
        windows=settings.windows,
        store=store,
        renderer=renderer,
    )


def build_worker(
    client: Client,
    settings: Settings,
    *,
    activities: list[Callable] | None = None,
    task_queue: str | None = None,
) -> Worker:
    """A worker for LeadWorkflow and the activities (loaded from settings unless given)."""
    process = settings.process
    return Worker(
        client,
        task_queue=task_queue or settings.connection.task_queue,
        workflows=[LeadWorkflow],
        workflow_runner=workflow_runner(),
        activities=activities if activities is not None else load_activities(settings),
        # The activities are plain functions doing blocking I/O (files, boto3): each
        # runs on a thread of its own, at most max_concurrent_activities at once.
        activity_executor=ThreadPoolExecutor(
            max_workers=process.max_concurrent_activities,
            thread_name_prefix="touchpoint-activity",
        ),
        max_concurrent_activities=process.max_concurrent_activities,
        max_cached_workflows=process.max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=process.graceful_shutdown_seconds),
        interceptors=[LeadLogContextInterceptor()],
    )


async def run_until_stopped(*workers: Worker) -> None:
    """Run the workers until SIGTERM or Ctrl-C, then let in-flight activities finish."""
    configs = [worker.config() for worker in workers]
    with stop_signals() as stop:
        async with contextlib.AsyncExitStack() as running:
            for worker, config in zip(workers, configs):
                await running.enter_async_context(worker)
                log.info("worker started", task_queue=config["task_queue"])
            sig = await stop
            log.info("worker stopping: waiting for in-flight activities", signal=sig.name)
    for config in configs:
        executor = config.get("activity_executor")
        if executor is not None:
            executor.shutdown()
    log.info("worker stopped")


def build_email_worker(
    client: Client, settings: Settings, *, activities: list[Callable], rate_per_second: float | None
) -> Worker:
    """The send_email activity alone on `email_task_queue`. The rate is the task queue's
    (enforced by the server across every worker process), not this process's."""
    email_task_queue, process = settings.connection.email_task_queue, settings.process
    assert email_task_queue is not None
    send_email = [a for a in activities if getattr(a, "__temporal_activity_definition").name == names.SEND_EMAIL]
    return Worker(
        client,
        task_queue=email_task_queue,
        activities=send_email,
        activity_executor=ThreadPoolExecutor(
            max_workers=process.max_concurrent_activities, thread_name_prefix="touchpoint-email"
        ),
        max_concurrent_activities=process.max_concurrent_activities,
        max_task_queue_activities_per_second=rate_per_second,
        graceful_shutdown_timeout=timedelta(seconds=process.graceful_shutdown_seconds),
        interceptors=[LeadLogContextInterceptor()],
    )


def email_rate(settings: Settings) -> float | None:
    """The configured rate, else 90% of SES's MaxSendRate (headroom for other senders on
    the account); None (no limit) for the outbox and SMTP."""
    if settings.process.email_rate_per_second is not None:
        return settings.process.email_rate_per_second
    ses_config = settings.delivery.ses
    if settings.delivery.email_transport != "ses" or ses_config is None:
        return None
    # SES v1's GetSendQuota reports the same account quota as v2's GetAccount, and is
    # the one the moto test server implements.
    ses = aws_client("ses", region=ses_config.region, endpoint_url=ses_config.endpoint_url)
    max_send_rate = float(ses.get_send_quota()["MaxSendRate"])
    return 0.9 * max_send_rate


async def run_worker(settings: Settings) -> None:
    # Before connecting: a broken cadence or template is an operator's mistake to fix,
    # found at start rather than one paused lead at a time.
    activities = load_activities(settings)
    connection = settings.connection
    client = await connect_or_exit(settings)
    workers = [build_worker(client, settings, activities=activities)]
    if connection.email_task_queue:
        rate = email_rate(settings)
        log.info("email task queue", task_queue=connection.email_task_queue, rate_per_second=rate)
        workers.append(build_email_worker(client, settings, activities=activities, rate_per_second=rate))
    await run_until_stopped(*workers)


def main() -> NoReturn:
    """`python -m workers` and `touchpoint worker`."""
    run_process("touchpoint worker", run_worker)
