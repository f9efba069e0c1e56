"""Settings come from TOUCHPOINT_* variables; a bad one is reported by its variable name."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from workers.settings import VARIABLES, Settings
from workflows import names

REP_7 = {"name": "Rep Seven", "title": "Account Executive", "email": "rep7@harborview.example"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the TOUCHPOINT_* variables it sets."""
    for name in list(os.environ):
        if name.startswith("TOUCHPOINT_"):
            monkeypatch.delenv(name)


def test_defaults_run_locally_with_no_configuration() -> None:
    settings = Settings()

    assert settings.connection.temporal_address == "localhost:7233"
    assert settings.connection.namespace == "default"
    assert settings.connection.task_queue == names.DEFAULT_TASK_QUEUE
    assert settings.connection.uses_tls is False
    assert settings.process.log_format == "console"
    assert settings.delivery.outbox_dir == Path("var/outbox")


def test_reads_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_TEMPORAL_ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("TOUCHPOINT_NAMESPACE", "sales")
    monkeypatch.setenv("TOUCHPOINT_TASK_QUEUE", "touchpoint-eu")
    monkeypatch.setenv("TOUCHPOINT_LOG_FORMAT", "json")
    monkeypatch.setenv("TOUCHPOINT_LOG_LEVEL", "debug")
    monkeypatch.setenv("TOUCHPOINT_MAX_CONCURRENT_ACTIVITIES", "8")

    settings = Settings()

    assert settings.connection.temporal_address == "temporal.internal:7233"
    assert settings.connection.namespace == "sales"
    assert settings.connection.task_queue == "touchpoint-eu"
    assert settings.process.log_format == "json"
    assert settings.process.log_level == "DEBUG"
    assert settings.process.max_concurrent_activities == 8


def test_unprefixed_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAMESPACE", "someone-elses")

    assert Settings().connection.namespace == "default"


def test_local_files_follow_var_dir_unless_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOUCHPOINT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TOUCHPOINT_TASKS_FILE", str(tmp_path / "elsewhere" / "tasks.jsonl"))

    config = Settings().delivery

    assert config.outbox_dir == tmp_path / "outbox"
    assert config.sms_outbox_file.parent == tmp_path
    assert config.tasks_file == tmp_path / "elsewhere" / "tasks.jsonl"


def test_owners_json_gives_each_rep_their_own_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_OWNERS", json.dumps({"rep-7": REP_7}))
    monkeypatch.setenv("TOUCHPOINT_SENDER_EMAIL", "team@harborview.example")

    config = Settings().content

    assert config.sender_for("rep-7").email == REP_7["email"]
    assert config.sender_for("rep-7").title == REP_7["title"]
    assert config.sender_for("rep-unknown").email == "team@harborview.example"
    assert config.sender_for(None).email == "team@harborview.example"


def test_bad_value_names_the_variable_and_what_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_LOG_FORMAT", "xml")

    with pytest.raises(ValidationError) as caught:
        Settings()

    message = str(caught.value)
    assert "TOUCHPOINT_LOG_FORMAT" in message
    assert "'console' or 'json'" in message


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TOUCHPOINT_MAX_CONCURRENT_ACTIVITIES", "0", "greater than or equal to 1"),
        ("TOUCHPOINT_TEMPORAL_ADDRESS", "https://temporal", "host:port"),
        ("TOUCHPOINT_OWNERS", '{"rep-7": ', "not valid JSON"),
        ("TOUCHPOINT_COMPANY_URL", "harborview.example", "should match pattern"),
    ],
)
def test_each_bad_value_is_reported_against_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError) as caught:
        Settings()

    assert variable in str(caught.value)
    assert expected in str(caught.value)


def test_bad_owner_profile_points_at_the_owner_and_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_OWNERS", json.dumps({"rep-7": {**REP_7, "email": "not-an-address"}}))

    with pytest.raises(ValidationError) as caught:
        Settings()

    assert "TOUCHPOINT_OWNERS.rep-7.email" in str(caught.value)


def test_client_certificate_needs_its_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_text("cert")
    monkeypatch.setenv("TOUCHPOINT_TLS_CERT_PATH", str(cert))

    with pytest.raises(ValidationError) as caught:
        Settings()

    assert "TOUCHPOINT_TLS_CERT_PATH and TOUCHPOINT_TLS_KEY_PATH must be set together" in str(caught.value)


def test_missing_certificate_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOUCHPOINT_TLS_CA_PATH", str(tmp_path / "missing-ca.pem"))

    with pytest.raises(ValidationError) as caught:
        Settings()

    assert "TOUCHPOINT_TLS_CA_PATH" in str(caught.value)


def test_api_key_never_appears_in_repr_or_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_API_KEY", "tp-secret-key-123")

    settings = Settings()

    assert settings.connection.uses_tls
    assert "tp-secret-key-123" not in repr(settings)
    assert "tp-secret-key-123" not in str(settings)
    assert "tp-secret-key-123" not in settings.model_dump_json()


def test_nothing_is_read_at_import_time() -> None:
    env = {**os.environ, "TOUCHPOINT_LOG_FORMAT": "xml"}

    imported = subprocess.run(
        [sys.executable, "-c", "import workers.settings, workers.worker, workers.local"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert imported.returncode == 0, imported.stderr


def test_send_window_knobs_reach_the_policy(monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_COMPANY_HOLIDAYS", "2026-12-24, 2026-12-31")
    monkeypatch.setenv("TOUCHPOINT_DEFAULT_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("TOUCHPOINT_SEND_JITTER_MINUTES", "30")
    policy = Settings().windows.policy()
    assert [d.isoformat() for d in policy.company_holidays] == ["2026-12-24", "2026-12-31"]
    assert policy.default_timezone == "Europe/Berlin" and policy.jitter_minutes == 30


def test_a_bad_default_timezone_names_the_variable(monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_DEFAULT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError) as failure:
        Settings()
    assert "TOUCHPOINT_DEFAULT_TIMEZONE" in str(failure.value) and "unknown time zone" in str(failure.value)


def test_half_configured_email_delivery_is_refused_naming_the_variables(monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_EMAIL_TRANSPORT", "ses")
    monkeypatch.setenv("TOUCHPOINT_SES", '{"region": "us-east-1", "configuration_set": "touchpoint"}')
    monkeypatch.setenv("TOUCHPOINT_API_KEY", "tp-secret-key")
    with pytest.raises(ValidationError) as failure:
        Settings()
    message = str(failure.value)
    assert "TOUCHPOINT_TOKEN_SECRET" in message and "TOUCHPOINT_UNSUBSCRIBE_BASE_URL" in message
    assert "tp-secret-key" not in message


def test_ingest_queues_come_from_one_json_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TOUCHPOINT_INGEST",
        '{"region": "us-east-1", "events_queue_url": "https://sqs.example/e", '
        '"dead_letter_queue_url": "https://sqs.example/dlq"}',
    )
    ingest = Settings().inbound.ingest
    assert ingest is not None and ingest.queues() == {"events": "https://sqs.example/e"}
    assert ingest.max_receives == 10 and ingest.click_settle_seconds == 30


def test_ingest_without_any_queue_is_refused_with_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_INGEST", '{"region": "us-east-1", "dead_letter_queue_url": "https://sqs.example/dlq"}')
    with pytest.raises(ValidationError) as failure:
        Settings()
    assert "events_queue_url" in str(failure.value) and "TOUCHPOINT_INGEST" in str(failure.value)


def test_every_documented_variable_is_read_and_no_other() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| Variable | Default | Meaning |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `(TOUCHPOINT_[A-Z_]+)`", table, re.MULTILINE))

    assert documented == set(VARIABLES)


def test_a_json_variable_that_is_not_json_is_reported_against_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_LEDGER", '{"kind": ')

    with pytest.raises(ValidationError) as failure:
        Settings()

    assert "TOUCHPOINT_LEDGER" in str(failure.value)
