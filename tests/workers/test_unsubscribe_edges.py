"""The unsubscribe endpoint's edges: the durable opt-out comes before the answer, a signal
that reaches no workflow is an error in the logs (not a silent success), a failed opt-out
is a failed answer."""

import asyncio
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from activities.common.tokens import make_unsubscribe_token
from activities.stores.ledger import SqliteSendLedger
from starter.client import TouchpointClient
from starter.connection import connect
from starter.errors import LeadNotFound
from tests.support.privacy import shared_codec
from workers.settings import Settings
from workers.unsubscribe import ClientLimiter, UnsubscribeServer, signal_sender

SECRET = "edge-unsubscribe-secret"
TOKEN = make_unsubscribe_token("crm-0042", SECRET)
ONE_CLICK = b"List-Unsubscribe=One-Click"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TOUCHPOINT_"):
            monkeypatch.delenv(name)


class Signals:
    """A fake `send_unsubscribe` that records calls and may fail as told."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.error = error

    def __call__(self, lead_id: str, event_id: str) -> None:
        self.calls.append((lead_id, event_id))
        if self.error is not None:
            raise self.error


class BrokenLedger(SqliteSendLedger):
    def record_opt_out(self, lead_id: str, *, reason: str, at: datetime) -> None:
        raise OSError("disk full")


def request(
    url: str, *, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str, dict[str, str]]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteSendLedger:
    return SqliteSendLedger(tmp_path / "ledger.sqlite3")


@pytest.fixture
def signals() -> Signals:
    return Signals()


@pytest.fixture
def server(signals: Signals, ledger: SqliteSendLedger) -> Iterator[UnsubscribeServer]:
    with UnsubscribeServer(secret=SECRET, send_unsubscribe=signals, ledger=ledger, port=0) as running:
        yield running


# ------------------------------------------------------------ finding 7


def test_a_post_records_a_durable_opt_out_in_the_ledger(server: UnsubscribeServer, ledger: SqliteSendLedger) -> None:
    status, page, _ = request(f"{server.url}/u/{TOKEN}", method="POST", body=ONE_CLICK)

    assert status == 200 and "You are unsubscribed" in page
    opt_out = ledger.opt_out("crm-0042")
    assert opt_out is not None and opt_out.reason == "unsubscribe"


def test_a_signal_no_workflow_takes_keeps_the_opt_out_and_logs_an_error(
    server: UnsubscribeServer, signals: Signals, ledger: SqliteSendLedger
) -> None:
    signals.error = LeadNotFound("crm-0042")
    with capture_logs() as logs:
        status, page, _ = request(f"{server.url}/u/{TOKEN}", method="POST", body=ONE_CLICK)

    # Applied: the ledger stops every email and text; the page reveals nothing about the lead.
    assert status == 200 and "You are unsubscribed" in page
    assert ledger.opt_out("crm-0042") is not None
    [entry] = logs
    assert entry["log_level"] == "error" and entry["error"] == "LeadNotFound"
    assert entry["lead_id"] == "crm-0042" and "not signalled" in entry["event"]


def test_when_the_opt_out_cannot_be_recorded_the_answer_is_503_and_an_error(tmp_path: Path) -> None:
    signals = Signals()
    broken = BrokenLedger(tmp_path / "ledger.sqlite3")
    with capture_logs() as logs, UnsubscribeServer(
        secret=SECRET, send_unsubscribe=signals, ledger=broken, port=0
    ) as server:
        status, text, headers = request(f"{server.url}/u/{TOKEN}", method="POST", body=ONE_CLICK)

    assert status == 503 and "try again" in text and headers["Retry-After"] == "60"
    assert "unsubscribed" not in text.lower()
    [entry] = logs
    assert entry["log_level"] == "error" and entry["error"] == "OSError"


async def test_a_lead_with_no_workflow_in_the_namespace_is_an_error_not_an_info(
    server_address: str, namespace: str, tmp_path: Path
) -> None:
    settings = Settings(temporal_address=server_address, namespace=namespace, var_dir=tmp_path)
    client = await connect(settings.connection, codec=shared_codec())
    touchpoint = TouchpointClient(client, task_queue=f"unsub-{uuid.uuid4()}")
    ledger = SqliteSendLedger(tmp_path / "ledger.sqlite3")
    lead_id = f"elsewhere-{uuid.uuid4().hex[:8]}"
    server = UnsubscribeServer(secret=SECRET, send_unsubscribe=signal_sender(touchpoint), ledger=ledger, port=0)
    server.start()
    try:
        with capture_logs() as logs:
            url = f"{server.url}/u/{make_unsubscribe_token(lead_id, SECRET)}"
            status, _, _ = await asyncio.to_thread(request, url, method="POST", body=ONE_CLICK)
    finally:
        await asyncio.to_thread(server.stop)

    assert status == 200 and ledger.opt_out(lead_id) is not None
    assert [(e["log_level"], e.get("error")) for e in logs] == [("error", "LeadNotFound")]


# ------------------------------------------------------------ finding 16


def test_head_answers_like_get_without_a_body(server: UnsubscribeServer, signals: Signals) -> None:
    get_status, page, get_headers = request(f"{server.url}/u/{TOKEN}")
    status, body, headers = request(f"{server.url}/u/{TOKEN}", method="HEAD")

    assert (status, body) == (200, "")
    assert headers["Content-Type"] == get_headers["Content-Type"] and headers["Content-Length"] == str(len(page))
    assert headers["Cache-Control"] == "no-store"
    assert request(f"{server.url}/u/{TOKEN}x", method="HEAD")[:2] == (400, "")
    assert signals.calls == []


def test_a_post_without_the_one_click_body_still_unsubscribes(
    server: UnsubscribeServer, signals: Signals, ledger: SqliteSendLedger
) -> None:
    status, page, _ = request(f"{server.url}/u/{TOKEN}", method="POST", body=b"")

    assert status == 200 and "You are unsubscribed" in page
    assert ledger.opt_out("crm-0042") is not None and len(signals.calls) == 1


def test_a_client_over_the_limit_gets_a_clear_429(signals: Signals, ledger: SqliteSendLedger) -> None:
    with UnsubscribeServer(
        secret=SECRET, send_unsubscribe=signals, ledger=ledger, port=0, rate_per_minute=3
    ) as server:
        answers = [request(f"{server.url}/u/{TOKEN}", method="POST", body=ONE_CLICK) for _ in range(4)]
        head = request(f"{server.url}/u/{TOKEN}", method="HEAD")

    assert [status for status, _, _ in answers] == [200, 200, 200, 429]
    _, text, headers = answers[3]
    assert "Too many requests" in text and "wait 20 seconds" in text and headers["Retry-After"] == "20"
    assert head[0] == 429 and len(signals.calls) == 3


def test_behind_a_proxy_the_limit_is_per_forwarded_client(signals: Signals, ledger: SqliteSendLedger) -> None:
    with UnsubscribeServer(
        secret=SECRET, send_unsubscribe=signals, ledger=ledger, port=0, rate_per_minute=1, forwarded_for=True
    ) as server:
        url = f"{server.url}/u/{TOKEN}"
        first = request(url, headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.1"})
        second = request(url, headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.2"})
        again = request(url, headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.1"})

    assert [first[0], second[0], again[0]] == [200, 200, 429]


def test_the_limiter_refills_and_keeps_a_bounded_number_of_clients() -> None:
    now = [0.0]
    limiter = ClientLimiter(60, max_clients=2, clock=lambda: now[0])
    assert [limiter.retry_after("a") for _ in range(61)][-2:] == [None, 1]
    now[0] += 1
    assert limiter.retry_after("a") is None
    for client in ("b", "c", "d"):
        limiter.retry_after(client)
    assert len(limiter) == 2
