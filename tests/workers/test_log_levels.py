"""Issue 12, finding 10: TOUCHPOINT_LOG_LEVEL=DEBUG shows Touchpoint's debug lines, never a
library's: botocore's log SQS bodies and signing lines, temporalio's activity results."""

import logging
from collections.abc import Iterator

import pytest
import structlog
from temporalio import activity, workflow

from workers.logging import configure_logging
from workers.settings import Settings

LIBRARIES = ("botocore.endpoint", "botocore.auth", "boto3.resources", "urllib3.connectionpool", "s3transfer",
             "temporalio.worker._activity", "asyncio", "some.other.library")  # fmt: skip
TOP_LEVEL = sorted({name.split(".")[0] for name in LIBRARIES})


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in TOP_LEVEL}
    on_message = workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = on_message


def test_at_debug_libraries_log_info_and_up_and_touchpoint_logs_debug(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json", log_level="DEBUG"))

    for name in LIBRARIES:
        logging.getLogger(name).debug("library debug %s", name)
        logging.getLogger(name).info("library info %s", name)
    structlog.get_logger("touchpoint.activities").debug("own debug activities")
    structlog.get_logger("workers.worker").debug("own debug worker")
    logging.getLogger("starter.client").debug("own debug starter")

    err = capsys.readouterr().err
    assert "library debug" not in err
    for name in LIBRARIES:
        assert f"library info {name}" in err
    for own in ("activities", "worker", "starter"):
        assert f"own debug {own}" in err
    assert logging.getLogger("botocore").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("temporalio").getEffectiveLevel() == logging.INFO


def test_a_stricter_setting_applies_to_libraries_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json", log_level="WARNING"))

    logging.getLogger("botocore.endpoint").info("library info")
    logging.getLogger("some.other.library").info("library info")
    structlog.get_logger("touchpoint.ingest").info("own info")
    logging.getLogger("botocore.endpoint").warning("library warning")

    err = capsys.readouterr().err
    assert "library info" not in err and "own info" not in err
    assert "library warning" in err
