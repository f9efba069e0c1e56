"""Issue 15: the /v1 HTTP API, in this process (httpx over ASGI) against the session's dev
server and a worker: every route with good and bad input, keys and scopes, the rate
limit, Idempotency-Key, and the published OpenAPI document."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from activities.stores.api_keys import ApiKeyStore
from starter.client import TouchpointClient
from tests.integration.helpers import RunningWorker, eventually
from workers.api.v1 import create_api, openapi_document

pytestmark = pytest.mark.integration
OPENAPI = Path(__file__).parents[2] / "deploy" / "openapi" / "v1.json"
PHONE = "+13125550142"


@pytest.fixture
def keys(tmp_path: Path) -> ApiKeyStore:
    return ApiKeyStore(f"sqlite:///{tmp_path / 'keys.sqlite3'}")


def api_client(worker: RunningWorker, keys: ApiKeyStore, *, rate: int = 600) -> httpx.AsyncClient:
    touchpoint = TouchpointClient(worker.client, task_queue=worker.task_queue)

    async def get_client() -> TouchpointClient:
        return touchpoint

    app = create_api(get_client, keys, rate_per_minute=rate)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


@pytest_asyncio.fixture
async def api(worker: RunningWorker, keys: ApiKeyStore) -> AsyncIterator[httpx.AsyncClient]:
    _, secret = keys.create("crm-sync", ["read", "write", "events"])
    async with api_client(worker, keys) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


def lead(lead_id: str | None = None, **fields) -> dict:
    lead_id = lead_id or f"api-{uuid.uuid4().hex[:10]}"
    return {"lead": {"id": lead_id, "email": "dana@acme.example", "phone": PHONE, "timezone": "America/Chicago",
                     **fields}, "mode": "nurture"}  # fmt: skip


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["type"].endswith("/" + kind) and problem["detail"]
    return problem


async def test_enroll_one_state_and_list(api: httpx.AsyncClient) -> None:
    body = lead(owner="rep-api")
    lead_id = body["lead"]["id"]
    first = await api.post("/leads", json=body)
    again = await api.post("/leads", json=body)

    assert first.status_code == 201 and first.json() == {
        "lead_id": lead_id, "workflow_id": f"lead-{lead_id}", "created": True, "closed_outcome": None,
    }  # fmt: skip
    assert again.status_code == 200 and again.json()["created"] is False
    state = await api.get(f"/leads/{lead_id}")
    assert state.status_code == 200 and state.json()["mode"] == "nurture"
    listed = await eventually(lambda: _ids(api.get("/leads", params={"owner": "rep-api"})), what="the lead in the list")
    assert lead_id in listed


async def _ids(response) -> list[str]:
    return [row["lead_id"] for row in (await response).json()["leads"]]


async def test_a_bad_enrollment_names_every_field_and_echoes_no_value(api: httpx.AsyncClient) -> None:
    body = lead(email="not-an-address")
    body["lead"]["phone"] = "312 555 0142"
    problem = assert_problem(await api.post("/leads", json=body), 422, "invalid-request")
    assert {e["field"] for e in problem["errors"]} == {"lead.email", "lead.phone"}
    assert "not-an-address" not in json.dumps(problem) and "312 555 0142" not in json.dumps(problem)
    memory = assert_problem(await api.post("/leads", json={**lead(), "memory": {"state": {}}}), 422, "invalid-request")
    assert "memory" in memory["detail"]
    assert_problem(await api.post("/leads", content=b"{not json", headers={"Content-Type": "application/json"}),
                   422, "invalid-request")  # fmt: skip


async def test_bulk_enroll_answers_each_item(api: httpx.AsyncClient) -> None:
    good = lead()
    bad = lead(timezone="Mars/Base")
    response = await api.post("/leads/bulk", json={"leads": [good, bad, good, "a string"]})
    assert response.status_code == 200
    result = response.json()
    assert [r["status"] for r in result["results"]] == ["enrolled", "invalid", "invalid", "invalid"]
    assert "lead.timezone" in result["results"][1]["error"] and "Mars" not in result["results"][1]["error"]
    assert "duplicate lead id (first at index 0)" == result["results"][2]["error"]
    assert "JSON object" in result["results"][3]["error"]
    assert (result["enrolled"], result["invalid"]) == (1, 3)


async def test_events_and_commands(api: httpx.AsyncClient) -> None:
    body = lead()
    lead_id = body["lead"]["id"]
    await api.post("/leads", json=body)
    accepted = await api.post(f"/leads/{lead_id}/events/trigger", json={"event_id": "t-1", "name": "funding_round"})
    assert accepted.status_code == 202 and accepted.json() == {"accepted": True, "lead_id": lead_id, "event_id": "t-1"}
    moved = await eventually(lambda: _mode(api, lead_id, "follow_up"), what="follow-up after the trigger")
    assert moved["transitions"][-1]["reason"] == "trigger: funding_round"

    snoozed = await api.post(f"/leads/{lead_id}/commands/snooze", json={"months": 3, "reason": "budget in Q3"})
    assert snoozed.status_code == 200 and snoozed.json()["mode"] == "snoozed"
    refused = assert_problem(await api.post(f"/leads/{lead_id}/commands/resume", json={}), 409, "command-rejected")
    assert "nothing to resume" in refused["detail"]
    assert_problem(await api.post(f"/leads/{lead_id}/commands/snooze", json={"months": 3, "weeks": 1}),
                   422, "invalid-request")  # fmt: skip
    bad_event = assert_problem(await api.post(f"/leads/{lead_id}/events/delivery", json={"event_id": "d", "kind": "x"}),
                               422, "invalid-request")  # fmt: skip
    assert bad_event["errors"][0]["field"] == "kind"
    assert_problem(await api.get("/leads/no-such-lead"), 404, "lead-not-found")
    assert_problem(await api.get("/leads/bad id"), 422, "invalid-request")


async def _mode(api: httpx.AsyncClient, lead_id: str, mode: str) -> dict | None:
    state = (await api.get(f"/leads/{lead_id}")).json()
    return state if state["mode"] == mode else None


async def test_keys_are_required_scoped_and_revocable(worker: RunningWorker, keys: ApiKeyStore) -> None:
    reader, read_secret = keys.create("dashboard", ["read"])
    async with api_client(worker, keys) as client:
        assert_problem(await client.get("/leads"), 401, "unauthorised")
        assert_problem(await client.get("/leads", headers={"Authorization": "Bearer nope"}), 401, "unauthorised")
        forged = "tpk_" + reader.key_id + "_" + "A" * 43
        assert_problem(await client.get("/leads", headers={"Authorization": f"Bearer {forged}"}), 401, "unauthorised")
        as_reader = {"Authorization": f"Bearer {read_secret}"}
        assert (await client.get("/leads", headers=as_reader)).status_code == 200
        denied = assert_problem(await client.post("/leads", json=lead(), headers=as_reader), 403, "forbidden")
        assert "'write'" in denied["detail"]
        assert keys.revoke(reader.key_id)
        revoked = assert_problem(await client.get("/leads", headers=as_reader), 401, "unauthorised")
        assert "revoked" in revoked["detail"]
    assert [k.key_id for k in keys.list() if k.revoked_at] == [reader.key_id]


async def test_each_key_has_a_rate_limit(worker: RunningWorker, keys: ApiKeyStore) -> None:
    _, secret = keys.create("burst", ["read"])
    async with api_client(worker, keys, rate=2) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        statuses = [(await client.get("/leads", params={"limit": 1})).status_code for _ in range(3)]
        limited = await client.get("/leads")
    assert statuses == [200, 200, 429]
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["Retry-After"]) >= 1


async def test_an_idempotency_key_replays_the_first_answer(api: httpx.AsyncClient) -> None:
    body = lead()
    key = {"Idempotency-Key": f"enroll-{uuid.uuid4()}"}
    first = await api.post("/leads", json=body, headers=key)
    retried = await api.post("/leads", json=body, headers=key)
    other = await api.post("/leads", json=lead(), headers=key)

    assert first.status_code == retried.status_code == 201
    assert retried.json() == first.json() and retried.headers["Idempotent-Replayed"] == "true"
    assert_problem(other, 422, "idempotency-key-reused")
    plain = await api.post("/leads", json=body)
    assert plain.status_code == 200 and plain.json()["created"] is False


def test_the_published_openapi_document_is_the_apis(keys: ApiKeyStore) -> None:
    """Regenerate with: python -c "from tests.integration.test_http_api import write_openapi; write_openapi()"."""
    assert OPENAPI.read_text(encoding="utf-8") == openapi_document(create_api(_no_client, keys))


async def _no_client() -> TouchpointClient:
    raise AssertionError("the document needs no client")


def write_openapi() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        keys = ApiKeyStore(f"sqlite:///{directory}/keys.sqlite3")
        OPENAPI.parent.mkdir(parents=True, exist_ok=True)
        OPENAPI.write_text(openapi_document(create_api(_no_client, keys)), encoding="utf-8")
