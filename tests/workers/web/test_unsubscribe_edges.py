"""The unsubscribe endpoint's edges: the durable opt-out comes before the answer, a signal
that reaches no workflow is an error in the logs (not a silent success), a failed opt-out
is a failed answer; HEAD, an empty POST, and the rate limit per client."""

import uuid
from datetime import datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from activities.common.tokens import make_unsubscribe_token
from activities.stores.ledger import SqliteSendLedger
from starter.connection import connect
from starter.errors import LeadNotFound
from tests.support.privacy import shared_codec
from tests.workers.web.conftest import Serve
from tests.workers.web.unsubscribe_app import FORM, ONE_CLICK, SECRET, TOKEN, Recorder, unsubscribe_app
from workers.settings import Settings
from workers.web.unsubscribe import ClientLimiter


class BrokenLedger(SqliteSendLedger):
    def record_opt_out(self, lead_id: str, *, reason: str, at: datetime) -> None:
        raise OSError("disk full")


@pytest.fixture
def signals() -> Recorder:
    return Recorder()


# ------------------------------------------------------------ the opt-out first


async def test_a_post_records_a_durable_opt_out_in_the_ledger(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, signals: Recorder
) -> None:
    async with serve(unsubscribe_app(tmp_path, ledger, signals)) as http:
        answer = await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)

    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    opt_out = ledger.opt_out("crm-0042")
    assert opt_out is not None and opt_out.reason == "unsubscribe"


async def test_a_signal_no_workflow_takes_keeps_the_opt_out_and_logs_an_error(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger
) -> None:
    signals = Recorder(error=LeadNotFound("crm-0042"))
    async with serve(unsubscribe_app(tmp_path, ledger, signals)) as http:
        with capture_logs() as logs:
            answer = await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)

    # Applied: the ledger stops every email and text; the page reveals nothing about the lead.
    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert ledger.opt_out("crm-0042") is not None
    [entry] = logs
    assert entry["log_level"] == "error" and entry["error"] == "LeadNotFound"
    assert entry["lead_id"] == "crm-0042" and "not signalled" in entry["event"]


async def test_when_the_opt_out_cannot_be_recorded_the_answer_is_503_and_an_error(
    tmp_path: Path, serve: Serve, signals: Recorder
) -> None:
    broken = BrokenLedger(tmp_path / "broken.sqlite3")
    async with serve(unsubscribe_app(tmp_path, broken, signals)) as http:
        with capture_logs() as logs:
            answer = await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)

    assert answer.status_code == 503 and "try again" in answer.text and answer.headers["Retry-After"] == "60"
    assert "unsubscribed" not in answer.text.lower()
    [entry] = logs
    assert entry["log_level"] == "error" and entry["error"] == "OSError"
    assert signals.calls == []


async def test_a_lead_with_no_workflow_in_the_namespace_is_an_error_not_an_info(
    server_address: str, namespace: str, tmp_path: Path, serve: Serve, ledger: SqliteSendLedger
) -> None:
    settings = Settings(temporal_address=server_address, namespace=namespace, var_dir=tmp_path)
    client = await connect(settings.connection, codec=shared_codec())
    lead_id = f"elsewhere-{uuid.uuid4().hex[:8]}"
    # The app's own sender, on a task queue no lead of this namespace uses.
    app = unsubscribe_app(tmp_path, ledger, None, temporal=client, task_queue=f"unsub-{uuid.uuid4()}")

    async with serve(app) as http:
        with capture_logs() as logs:
            answer = await http.post(f"/u/{make_unsubscribe_token(lead_id, SECRET)}", content=ONE_CLICK, headers=FORM)

    assert answer.status_code == 200 and ledger.opt_out(lead_id) is not None
    assert [(e["log_level"], e.get("error")) for e in logs] == [("error", "LeadNotFound")]


async def test_with_temporal_unreachable_the_opt_out_is_recorded_and_the_failure_logged(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger
) -> None:
    # The app's own sender, connecting on first use to a port where nothing listens.
    async with serve(unsubscribe_app(tmp_path, ledger, None)) as http:
        with capture_logs() as logs:
            answer = await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)

    assert answer.status_code == 200 and ledger.opt_out("crm-0042") is not None
    assert [(e["log_level"], e.get("error")) for e in logs] == [("error", "RuntimeError")]


# ------------------------------------------------------------ HEAD, empty POST, rate limit


async def test_head_answers_like_get_without_a_body(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, signals: Recorder
) -> None:
    async with serve(unsubscribe_app(tmp_path, ledger, signals)) as http:
        get = await http.get(f"/u/{TOKEN}")
        head = await http.head(f"/u/{TOKEN}")
        bad = await http.head(f"/u/{TOKEN}x")

    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["Content-Length"] == str(len(get.content))
    assert head.headers["Cache-Control"] == "no-store"
    assert (bad.status_code, bad.content) == (400, b"")
    assert signals.calls == []


async def test_a_post_without_the_one_click_body_still_unsubscribes(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, signals: Recorder
) -> None:
    async with serve(unsubscribe_app(tmp_path, ledger, signals)) as http:
        answer = await http.post(f"/u/{TOKEN}")

    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert ledger.opt_out("crm-0042") is not None and len(signals.calls) == 1


async def test_a_client_over_the_limit_gets_a_clear_429(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, signals: Recorder
) -> None:
    app = unsubscribe_app(tmp_path, ledger, signals, unsubscribe_rate_per_minute=3)
    async with serve(app) as http:
        answers = [await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM) for _ in range(4)]
        head = await http.head(f"/u/{TOKEN}")

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    limited = answers[3]
    assert "Too many requests" in limited.text and "wait 20 seconds" in limited.text
    assert limited.headers["Retry-After"] == "20"
    assert head.status_code == 429 and len(signals.calls) == 3


async def test_without_forwarded_for_the_header_is_not_trusted(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, signals: Recorder
) -> None:
    app = unsubscribe_app(tmp_path, ledger, signals, unsubscribe_rate_per_minute=1)
    async with serve(app) as http:
        first = await http.get(f"/u/{TOKEN}", headers={"X-Forwarded-For": "198.51.100.7"})
        other = await http.get(f"/u/{TOKEN}", headers={"X-Forwarded-For": "198.51.100.9"})

    # Both from 127.0.0.1: a client cannot dodge the limit by naming another address.
    assert [first.status_code, other.status_code] == [200, 429]


async def test_behind_a_proxy_the_limit_is_per_forwarded_client(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, signals: Recorder
) -> None:
    app = unsubscribe_app(tmp_path, ledger, signals, unsubscribe_rate_per_minute=1, unsubscribe_forwarded_for=True)
    async with serve(app) as http:
        url = f"/u/{TOKEN}"
        first = await http.get(url, headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.1"})
        second = await http.get(url, headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.2"})
        again = await http.get(url, headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.1"})

    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 429]


def test_the_limiter_refills_and_keeps_a_bounded_number_of_clients() -> None:
    now = [0.0]
    limiter = ClientLimiter(60, max_clients=2, clock=lambda: now[0])
    assert [limiter.retry_after("a") for _ in range(61)][-2:] == [None, 1]
    now[0] += 1
    assert limiter.retry_after("a") is None
    for client in ("b", "c", "d"):
        limiter.retry_after(client)
    assert len(limiter) == 2
