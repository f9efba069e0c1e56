"""Log lines carry the lead's ids and never its contact details, in JSON or on a terminal."""

import json
import logging

import pytest
import structlog

from workers.interceptors import lead_log_context
from workers.logging import configure_logging
from workers.settings import Settings
from workflows.models import CadenceStep, Lead, RepTaskInput, TouchInput

pytestmark = pytest.mark.usefixtures("restore_logging")


def json_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def test_json_lines_carry_bound_lead_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json"))

    with structlog.contextvars.bound_contextvars(lead_id="crm-0042", workflow_id="lead-crm-0042", step="day-1"):
        structlog.get_logger("touchpoint.test").info("touch sent", channel="email")

    (line,) = json_lines(capsys.readouterr().err)
    assert line["event"] == "touch sent"
    assert line["lead_id"] == "crm-0042"
    assert line["workflow_id"] == "lead-crm-0042"
    assert line["step"] == "day-1"
    assert line["level"] == "info"
    assert "timestamp" in line


def test_contact_details_never_reach_the_log(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json"))

    structlog.get_logger().warning(
        "bounce",
        lead_id="crm-0042",
        email="dana@acme.example",
        phone="+13125550142",
        first_name="Dana",
        last_name="Reyes",
    )
    logging.getLogger("some.library").warning("stdlib too", extra={"email": "dana@acme.example"})

    err = capsys.readouterr().err
    lines = json_lines(err)
    assert [line["event"] for line in lines] == ["bounce", "stdlib too"]
    assert not {"email", "phone", "first_name", "last_name"} & {key for line in lines for key in line}
    for secret in ("dana@acme.example", "+13125550142", "Dana", "Reyes"):
        assert secret not in err


def test_temporal_activity_logs_get_flat_lead_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json"))

    # What temporalio's activity.logger attaches to every record it emits.
    details = {"activity_type": "send_email", "attempt": 2, "workflow_id": "lead-crm-0042", "task_queue": "touchpoint"}
    logging.getLogger("temporalio.activity").info("sending", extra={"temporal_activity": details})

    (line,) = json_lines(capsys.readouterr().err)
    assert line["lead_id"] == "crm-0042"
    assert line["workflow_id"] == "lead-crm-0042"
    assert line["activity"] == "send_email"
    assert line["attempt"] == 2
    assert "temporal_activity" not in line


def test_level_setting_filters_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json", log_level="WARNING"))

    structlog.get_logger().info("routine")
    structlog.get_logger().warning("worth a look")

    assert [line["event"] for line in json_lines(capsys.readouterr().err)] == ["worth a look"]


def test_console_format_is_readable_not_json(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="console"))

    structlog.get_logger().info("worker started", lead_id="crm-0042", email="dana@acme.example")

    err = capsys.readouterr().err
    assert "worker started" in err
    assert "lead_id=crm-0042" in err
    assert "dana@acme.example" not in err
    assert not err.lstrip().startswith("{")


def test_configuring_twice_does_not_double_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json"))
    configure_logging(Settings(log_format="json"))

    structlog.get_logger().info("once")

    assert len(json_lines(capsys.readouterr().err)) == 1


def test_activity_context_binds_ids_only() -> None:
    lead = Lead(id="crm-0042", email="dana@acme.example", first_name="Dana")
    step = CadenceStep(key="day-3-discovery-challenge", day=3, channel="email", template="follow-up/x", purpose="p")
    touch = TouchInput(send_key="crm-0042:day-3", lead=lead, cadence="follow-up@v1", mode="follow_up", step=step)
    task = RepTaskInput(task_id="t-1", kind="call", lead_id="crm-0042", title="Call", touch=touch)

    assert lead_log_context("lead-crm-0042", [touch]) == {
        "workflow_id": "lead-crm-0042",
        "lead_id": "crm-0042",
        "step": "day-3-discovery-challenge",
    }
    assert lead_log_context("lead-crm-0042", [task])["step"] == "day-3-discovery-challenge"
    assert lead_log_context("lead-crm-0042", [{"cadence_id": "nurture"}]) == {"workflow_id": "lead-crm-0042"}
