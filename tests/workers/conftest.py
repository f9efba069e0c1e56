import logging
import os
from collections.abc import Iterator

import pytest
from temporalio import activity, workflow


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the TOUCHPOINT_* variables it sets."""
    for name in list(os.environ):
        if name.startswith("TOUCHPOINT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the next test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    on_message = workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = on_message
