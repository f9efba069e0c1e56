"""The one-click unsubscribe endpoint: GET only asks, POST unsubscribes, a bad link is refused.

Most tests inject a fake signal sender; the last one runs the real path: a dev server,
a worker, a lead enrolled through TouchpointClient, and a POST that closes it.
"""

import asyncio
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from activities.common.tokens import make_unsubscribe_token
from activities.stores.ledger import SqliteSendLedger
from starter.client import TouchpointClient
from starter.connection import connect
from tests.support.privacy import shared_codec
from workers.settings import Settings
from workers.unsubscribe import UnsubscribeServer, signal_sender, unsubscribe_event_id
from workers.worker import build_worker, load_activities
from workflows.models import Mode, Outcome

SECRET = "test-unsubscribe-secret"
TOKEN = make_unsubscribe_token("crm-0042", SECRET)
ONE_CLICK = b"List-Unsubscribe=One-Click"


class Recorder:
    """A fake `send_unsubscribe`: records each call instead of signalling Temporal."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self._error = error

    def __call__(self, lead_id: str, event_id: str) -> None:
        self.calls.append((lead_id, event_id))
        if self._error is not None:
            raise self._error


def request(url: str, *, method: str = "GET", body: bytes | None = None) -> tuple[int, str, dict[str, str]]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.fixture
def sent() -> Recorder:
    return Recorder()


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteSendLedger:
    return SqliteSendLedger(tmp_path / "ledger.sqlite3")


@pytest.fixture
def server(sent: Recorder, ledger: SqliteSendLedger) -> Iterator[UnsubscribeServer]:
    # Port 0: the OS picks a free port; the server reports it.
    with UnsubscribeServer(
        secret=SECRET, send_unsubscribe=sent, ledger=ledger, port=0, company_name="Harborview Operations Group"
    ) as running:
        yield running


def test_get_shows_a_button_that_posts_and_unsubscribes_nobody(server: UnsubscribeServer, sent: Recorder) -> None:
    status, page, headers = request(f"{server.url}/u/{TOKEN}")

    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert f'<form method="post" action="/u/{TOKEN}">' in page
    assert "Harborview Operations Group" in page
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert sent.calls == []


def test_one_click_post_unsubscribes_the_lead_at_once(server: UnsubscribeServer, sent: Recorder) -> None:
    status, page, _ = request(f"{server.url}/u/{TOKEN}", method="POST", body=ONE_CLICK)

    assert status == 200 and "You are unsubscribed" in page
    assert sent.calls == [("crm-0042", unsubscribe_event_id(TOKEN))]


def test_posting_twice_sends_the_same_event_id_so_the_workflow_applies_it_once(
    server: UnsubscribeServer, sent: Recorder
) -> None:
    request(f"{server.url}/u/{TOKEN}", method="POST", body=ONE_CLICK)
    status, _, _ = request(f"{server.url}/u/{TOKEN}", method="POST", body=b"")

    assert status == 200
    assert len(sent.calls) == 2 and sent.calls[0] == sent.calls[1]
    assert sent.calls[0][1].startswith("unsub-")


@pytest.mark.parametrize(
    "token",
    [
        make_unsubscribe_token("crm-0042", "another-secret"),
        TOKEN.replace("crm-0042", "crm-0043"),
        TOKEN[:-3],
        "crm-0042",
    ],
    ids=["other-secret", "edited-lead-id", "cut-short", "no-signature"],
)
def test_a_bad_link_is_refused_with_a_plain_message(server: UnsubscribeServer, sent: Recorder, token: str) -> None:
    for method, body in (("GET", None), ("POST", ONE_CLICK)):
        status, text, headers = request(f"{server.url}/u/{token}", method=method, body=body)

        assert status == 400 and headers["Content-Type"].startswith("text/plain")
        assert "link is not valid" in text
    assert sent.calls == []


def test_other_paths_are_not_found(server: UnsubscribeServer, sent: Recorder) -> None:
    assert request(f"{server.url}/", method="POST", body=ONE_CLICK)[0] == 404
    assert request(f"{server.url}/u/", method="POST", body=ONE_CLICK)[0] == 404
    assert sent.calls == []


def test_when_the_signal_cannot_be_sent_the_ledger_opt_out_still_unsubscribes(ledger: SqliteSendLedger) -> None:
    failing = Recorder(error=RuntimeError("Temporal unavailable"))
    with UnsubscribeServer(secret=SECRET, send_unsubscribe=failing, ledger=ledger, port=0) as server:
        status, text, _ = request(f"{server.url}/u/{TOKEN}", method="POST", body=ONE_CLICK)

    assert status == 200 and "You are unsubscribed" in text
    assert len(failing.calls) == 1 and ledger.opt_out("crm-0042") is not None


def test_logs_carry_the_lead_and_event_id_never_the_token(server: UnsubscribeServer) -> None:
    with capture_logs() as logs:
        request(f"{server.url}/u/{TOKEN}", method="POST", body=ONE_CLICK)
        request(f"{server.url}/u/{TOKEN}x", method="POST", body=ONE_CLICK)

    assert [(entry["event"], entry["status"]) for entry in logs] == [
        ("unsubscribed", 200),
        ("unsubscribe link not valid", 400),
    ]
    assert logs[0]["lead_id"] == "crm-0042" and logs[0]["event_id"] == unsubscribe_event_id(TOKEN)
    signature = TOKEN.rpartition(".")[2]
    assert signature not in repr(logs)


async def test_an_async_sender_runs_on_the_loop_that_started_the_server(ledger: SqliteSendLedger) -> None:
    loop = asyncio.get_running_loop()
    calls: list[tuple[str, str, asyncio.AbstractEventLoop]] = []

    async def send(lead_id: str, event_id: str) -> None:
        calls.append((lead_id, event_id, asyncio.get_running_loop()))

    server = UnsubscribeServer(secret=SECRET, send_unsubscribe=send, ledger=ledger, port=0)
    server.start()
    try:
        status, _, _ = await asyncio.to_thread(request, f"{server.url}/u/{TOKEN}", method="POST", body=ONE_CLICK)
    finally:
        await asyncio.to_thread(server.stop)

    assert status == 200
    assert calls == [("crm-0042", unsubscribe_event_id(TOKEN), loop)]


async def test_a_post_closes_a_running_lead_as_unsubscribed(server_address: str, tmp_path: Path) -> None:
    settings = Settings(temporal_address=server_address, task_queue=f"unsub-{uuid.uuid4()}", var_dir=tmp_path)
    client = await connect(settings.connection, codec=shared_codec())
    touchpoint = TouchpointClient(client, task_queue=settings.connection.task_queue)
    lead_id = f"unsub-test-{uuid.uuid4().hex[:8]}"
    token = make_unsubscribe_token(lead_id, SECRET)
    ledger = SqliteSendLedger(tmp_path / "ledger.sqlite3")
    server = UnsubscribeServer(secret=SECRET, send_unsubscribe=signal_sender(touchpoint), ledger=ledger, port=0)

    async with build_worker(client, settings, activities=load_activities(settings)):
        await touchpoint.enroll({"lead": {"id": lead_id, "email": "dana@acme.example"}, "mode": "follow_up"})
        server.start()
        try:
            post = f"{server.url}/u/{token}"
            status, page, _ = await asyncio.to_thread(request, post, method="POST", body=ONE_CLICK)
            assert status == 200 and "You are unsubscribed" in page

            async with asyncio.timeout(30):
                while (state := await touchpoint.state(lead_id)).mode != Mode.CLOSED:
                    await asyncio.sleep(0.2)

            # Closed, and never enrolled: the same answer, so the page reveals nothing.
            again = await asyncio.to_thread(request, post, method="POST", body=ONE_CLICK)
            stranger = make_unsubscribe_token(f"never-{uuid.uuid4().hex[:8]}", SECRET)
            unknown = await asyncio.to_thread(request, f"{server.url}/u/{stranger}", method="POST", body=ONE_CLICK)
        finally:
            await asyncio.to_thread(server.stop)

    assert state.outcome == Outcome.UNSUBSCRIBED
    assert state.touches == []
    assert (again[0], unknown[0]) == (200, 200) and again[1] == unknown[1] == page
