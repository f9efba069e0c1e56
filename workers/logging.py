"""Logging for every Touchpoint process: structlog, JSON in production, readable in a terminal.

Standard-library records (temporalio's own, `workflow.logger`, `activity.logger`) go
through the same processors, so every line carries `lead_id`, `workflow_id` and `step`
where known, and no line carries a lead's email address, phone or name.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from temporalio import activity, workflow

from workers.settings import Settings

# Keys dropped from every log line: logs are shipped and kept where personal data must not go.
PERSONAL_KEYS = frozenset({"email", "phone", "first_name", "last_name"})

_HANDLER_NAME = "touchpoint"

# Loggers that follow TOUCHPOINT_LOG_LEVEL. Every other one stays at INFO or above: at
# DEBUG botocore logs SQS bodies and signing lines, and temporalio activity results.
OWN_LOGGERS = ("touchpoint", "workers", "activities", "starter", "workflows")
# Given their level as well, so their debug lines are not even built.
NOISY_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "temporalio", "asyncio")


def drop_personal_data(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in PERSONAL_KEYS & event_dict.keys():
        del event_dict[key]
    return event_dict


def drop_uvicorn_colors(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # uvicorn passes its message again with terminal colour codes, for its own formatter.
    event_dict.pop("color_message", None)
    return event_dict


def lift_temporal_context(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Turn the `temporal_workflow` / `temporal_activity` extras of temporalio's loggers
    into the same flat fields our own lines carry."""
    # The SDK core's raw log entry; its text is already in the message.
    event_dict.pop("temporal_log", None)
    for extra in ("temporal_workflow", "temporal_activity"):
        details = event_dict.pop(extra, None)
        if not isinstance(details, dict):
            continue
        workflow_id = details.get("workflow_id")
        if workflow_id:
            event_dict.setdefault("workflow_id", workflow_id)
        if "activity_type" in details:
            event_dict.setdefault("activity", details["activity_type"])
            event_dict.setdefault("attempt", details.get("attempt"))
    workflow_id = event_dict.get("workflow_id")
    if isinstance(workflow_id, str) and workflow_id.startswith("lead-"):
        event_dict.setdefault("lead_id", workflow_id.removeprefix("lead-"))
    return event_dict


def is_own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


def configure_logging(settings: Settings) -> None:
    """Route structlog and the standard library through one handler on stderr.

    Safe to call again (tests do): it replaces only the handler it installed before.
    """
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        lift_temporal_context,
        drop_uvicorn_colors,
        drop_personal_data,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    final: list[structlog.typing.Processor]
    if settings.process.log_format == "json":
        final = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        final = [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a module-level logger first used under one configuration would keep
        # it for good, past a later configure_logging (the local demo, tests capturing
        # logs). Building the chain per call costs microseconds next to an activity.
        cache_logger_on_first_use=False,
    )

    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    level = logging.getLevelName(settings.process.log_level)
    floor = max(level, logging.INFO)
    handler.addFilter(lambda record: record.levelno >= floor or is_own(record.name))
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(floor)

    # The same details arrive as structured fields (lift_temporal_context); appending
    # them to every message as well only doubles the line.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
