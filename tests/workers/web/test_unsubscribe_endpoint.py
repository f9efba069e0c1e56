"""The one-click unsubscribe endpoint: GET only asks, POST unsubscribes, a bad link is refused.

Most tests inject a recording signal sender; the last one runs the real path: a dev
server, a worker, a lead enrolled through TouchpointClient, and a POST that closes it.
"""

import asyncio
import uuid
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from activities.common.tokens import make_unsubscribe_token
from activities.stores.ledger import SqliteSendLedger
from starter.client import TouchpointClient
from starter.connection import connect
from tests.support.privacy import shared_codec
from tests.workers.web.conftest import Serve, no_temporal
from tests.workers.web.unsubscribe_app import FORM, ONE_CLICK, SECRET, TOKEN, Recorder, unsubscribe_app
from tests.workers.web.wrap_codec import WrapCodec
from workers.settings import Settings
from workers.web.app import create_app
from workers.web.unsubscribe import unsubscribe_event_id
from workers.worker import build_worker, load_activities
from workflows.models import Mode, Outcome


@pytest.fixture
def sent() -> Recorder:
    return Recorder()


async def test_get_shows_a_button_that_posts_and_unsubscribes_nobody(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, sent: Recorder
) -> None:
    app = unsubscribe_app(tmp_path, ledger, sent, company_name="Harborview Operations Group")
    async with serve(app) as http:
        answer = await http.get(f"/u/{TOKEN}")

    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert f'<form method="post" action="/u/{TOKEN}">' in answer.text
    assert "Harborview Operations Group" in answer.text
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert sent.calls == [] and ledger.opt_out("crm-0042") is None


async def test_one_click_post_unsubscribes_the_lead_at_once(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, sent: Recorder
) -> None:
    async with serve(unsubscribe_app(tmp_path, ledger, sent)) as http:
        answer = await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)

    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert sent.calls == [("crm-0042", unsubscribe_event_id(TOKEN))]


async def test_posting_twice_sends_the_same_event_id_so_the_workflow_applies_it_once(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, sent: Recorder
) -> None:
    async with serve(unsubscribe_app(tmp_path, ledger, sent)) as http:
        await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)
        answer = await http.post(f"/u/{TOKEN}", content=b"", headers=FORM)

    assert answer.status_code == 200
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
async def test_a_bad_link_is_refused_with_a_plain_message(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, sent: Recorder, token: str
) -> None:
    async with serve(unsubscribe_app(tmp_path, ledger, sent)) as http:
        answers = [await http.get(f"/u/{token}"), await http.post(f"/u/{token}", content=ONE_CLICK, headers=FORM)]

    for answer in answers:
        assert answer.status_code == 400 and answer.headers["Content-Type"].startswith("text/plain")
        assert "link is not valid" in answer.text
    assert sent.calls == []


async def test_other_paths_are_not_found(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, sent: Recorder
) -> None:
    async with serve(unsubscribe_app(tmp_path, ledger, sent)) as http:
        statuses = [
            (await http.post("/", content=ONE_CLICK, headers=FORM)).status_code,
            (await http.post("/u/", content=ONE_CLICK, headers=FORM)).status_code,
            (await http.post(f"/u/{TOKEN}/more", content=ONE_CLICK, headers=FORM)).status_code,
            (await http.post(f"/u/{TOKEN.replace('.', '%2F')}", content=ONE_CLICK, headers=FORM)).status_code,
        ]

    # "/" only redirects a browser's GET to the console: a POST there is 405.
    assert statuses == [405, 404, 404, 404]
    assert sent.calls == []


async def test_without_a_token_secret_no_link_is_served(tmp_path: Path, serve: Serve, ledger: SqliteSendLedger) -> None:
    app = create_app(Settings(var_dir=tmp_path), temporal=no_temporal, codec=WrapCodec(), ledger=ledger)
    async with serve(app) as http:
        answer = await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)

    assert answer.status_code == 404 and ledger.opt_out("crm-0042") is None


async def test_when_the_signal_cannot_be_sent_the_ledger_opt_out_still_unsubscribes(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger
) -> None:
    failing = Recorder(error=RuntimeError("Temporal unavailable"))
    async with serve(unsubscribe_app(tmp_path, ledger, failing)) as http:
        answer = await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)

    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert len(failing.calls) == 1 and ledger.opt_out("crm-0042") is not None


async def test_logs_carry_the_lead_and_event_id_never_the_token(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger, sent: Recorder
) -> None:
    async with serve(unsubscribe_app(tmp_path, ledger, sent)) as http:
        with capture_logs() as logs:
            await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)
            await http.post(f"/u/{TOKEN}x", content=ONE_CLICK, headers=FORM)

    assert [(entry["event"], entry["status"]) for entry in logs] == [
        ("unsubscribed", 200),
        ("unsubscribe link not valid", 400),
    ]
    assert logs[0]["lead_id"] == "crm-0042" and logs[0]["event_id"] == unsubscribe_event_id(TOKEN)
    signature = TOKEN.rpartition(".")[2]
    assert signature not in repr(logs)


async def test_the_sender_runs_on_the_loop_that_serves_the_app(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger
) -> None:
    loop = asyncio.get_running_loop()
    calls: list[tuple[str, str, asyncio.AbstractEventLoop]] = []

    async def send(lead_id: str, event_id: str) -> None:
        calls.append((lead_id, event_id, asyncio.get_running_loop()))

    async with serve(unsubscribe_app(tmp_path, ledger, send)) as http:
        answer = await http.post(f"/u/{TOKEN}", content=ONE_CLICK, headers=FORM)

    assert answer.status_code == 200
    assert calls == [("crm-0042", unsubscribe_event_id(TOKEN), loop)]


async def test_a_post_closes_a_running_lead_as_unsubscribed(
    server_address: str, tmp_path: Path, serve: Serve, ledger: SqliteSendLedger
) -> None:
    settings = Settings(temporal_address=server_address, task_queue=f"unsub-{uuid.uuid4()}", var_dir=tmp_path)
    client = await connect(settings.connection, codec=shared_codec())
    touchpoint = TouchpointClient(client, task_queue=settings.connection.task_queue)
    lead_id = f"unsub-test-{uuid.uuid4().hex[:8]}"
    token = make_unsubscribe_token(lead_id, SECRET)
    # No sender given: the app's own, the engagement signal through this client.
    app = unsubscribe_app(tmp_path, ledger, None, temporal=client, task_queue=settings.connection.task_queue)

    async with build_worker(client, settings, activities=load_activities(settings)), serve(app) as http:
        await touchpoint.enroll({"lead": {"id": lead_id, "email": "dana@acme.example"}, "mode": "follow_up"})
        page = await http.post(f"/u/{token}", content=ONE_CLICK, headers=FORM)
        assert page.status_code == 200 and "You are unsubscribed" in page.text

        async with asyncio.timeout(30):
            while (state := await touchpoint.state(lead_id)).mode != Mode.CLOSED:
                await asyncio.sleep(0.2)

        # Closed, and never enrolled: the same answer, so the page reveals nothing.
        again = await http.post(f"/u/{token}", content=ONE_CLICK, headers=FORM)
        stranger = make_unsubscribe_token(f"never-{uuid.uuid4().hex[:8]}", SECRET)
        unknown = await http.post(f"/u/{stranger}", content=ONE_CLICK, headers=FORM)

    assert state.outcome == Outcome.UNSUBSCRIBED
    assert state.touches == []
    assert (again.status_code, unknown.status_code) == (200, 200) and again.text == unknown.text == page.text
