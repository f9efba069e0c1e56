"""The web app's HTTP entry points (the /v1 API, the codec endpoint, unsubscribe links,
the console's sign-in) fed malformed requests, in process over ASGI: each must get a 4xx
that says what is wrong (a problem's `detail`, or the page's words), never a 5xx, never
the value it was sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from activities.stores.api_keys import ApiKeyStore
from tests.edges.entries import Target
from tests.edges.verdicts import Verdict, strings_in
from tests.support.privacy import privacy_settings
from workers.settings import Settings
from workers.web.app import create_app
from workers.web.server import endpoint_codec

ENTRY = "HTTP (touchpoint web)"
SECRET = "edges-unsubscribe-secret-0123456789"
PHONE = "+13125550142"
JSON = {"Content-Type": "application/json"}


def cases() -> list[dict[str, Any]]:
    """(case, method, path, body, headers, statuses the caller may get, words it must contain)."""
    deep = "[" * 50_000 + "]" * 50_000
    lead = {"lead": {"id": "edge-http-1", "email": "dana@acme.example", "phone": PHONE}, "mode": "nurture"}
    return [
        {"case": "no API key", "method": "GET", "path": "/v1/leads", "auth": False, "statuses": {401}, "words": "API key"},
        {"case": "a malformed API key", "method": "GET", "path": "/v1/leads", "auth": "Bearer tpk_x", "statuses": {401},
         "words": "not a Touchpoint API key"},
        {"case": "enroll: not JSON", "method": "POST", "path": "/v1/leads", "raw": b"{lead: ", "statuses": {422},
         "words": "JSON"},
        {"case": "enroll: nested too deeply", "method": "POST", "path": "/v1/leads", "raw": deep.encode(),
         "statuses": {422}, "words": "not readable JSON"},
        {"case": "enroll: a JSON array", "method": "POST", "path": "/v1/leads", "json": [lead], "statuses": {422},
         "words": ""},
        {"case": "enroll: bad phone", "method": "POST", "path": "/v1/leads",
         "json": {**lead, "lead": {**lead["lead"], "phone": "312 555 0142"}}, "statuses": {422}, "words": "lead.phone"},
        {"case": "enroll: memory from a caller", "method": "POST", "path": "/v1/leads",
         "json": {**lead, "memory": {"state": {}}}, "statuses": {422}, "words": "memory"},
        {"case": "enroll: speedup 1e300", "method": "POST", "path": "/v1/leads", "json": {**lead, "speedup": 1e300},
         "statuses": {422}, "words": "speedup"},
        {"case": "bulk: 1,001 leads", "method": "POST", "path": "/v1/leads/bulk", "json": {"leads": [{}] * 1001},
         "statuses": {422}, "words": "leads"},
        {"case": "event: reply text of 200,000 characters", "method": "POST",
         "path": "/v1/leads/edge-http-1/events/reply", "json": {"event_id": "r", "text": "x" * 200_000},
         "statuses": {422}, "words": "text"},
        {"case": "command: snooze two ways", "method": "POST", "path": "/v1/leads/edge-http-1/commands/snooze",
         "json": {"months": 3, "weeks": 1}, "statuses": {422}, "words": "exactly one"},
        {"case": "command on a lead id with a space", "method": "POST", "path": "/v1/leads/bad%20id/commands/resume",
         "json": {}, "statuses": {422}, "words": "lead_id"},
        {"case": "list: limit 0", "method": "GET", "path": "/v1/leads?limit=0", "statuses": {422}, "words": "limit"},
        {"case": "list: owner an email address", "method": "GET", "path": "/v1/leads?owner=dana%40acme.example",
         "statuses": {422}, "words": "owner"},
        {"case": "Idempotency-Key of 300 characters", "method": "POST", "path": "/v1/leads", "json": lead,
         "headers": {"Idempotency-Key": "k" * 300}, "statuses": {422}, "words": "idempotency-key"},
        {"case": "codec: not JSON", "method": "POST", "path": "/decode", "raw": b"payloads", "statuses": {400},
         "words": "JSON"},
        {"case": "codec: payload data not base64", "method": "POST", "path": "/decode",
         "json": {"payloads": [{"metadata": {}, "data": "%%%"}]}, "statuses": {400}, "words": "payloads[0]"},
        {"case": "unsubscribe: forged token", "method": "GET", "path": "/u/crm-0042.AAAAAAAAAAAAAAAA", "statuses": {400, 404},
         "words": ""},
        {"case": "unsubscribe: a token of 5,000 characters", "method": "POST", "path": "/u/" + "a" * 5000,
         "statuses": {400, 404, 414}, "words": ""},
        {"case": "console: sign-in without its form token", "method": "POST", "path": "/console/login",
         "form": {"username": "admin", "password": "x"}, "statuses": {400}, "words": "expired"},
        {"case": "console: a command without signing in", "method": "POST", "path": "/console/leads/x/not-now",
         "form": {"months": "3"}, "statuses": {303}, "words": ""},
    ]  # fmt: skip


async def http_requests(target: Target, tmp: Path) -> list[Verdict]:
    settings = Settings(
        var_dir=tmp / "http", token_secret=SECRET, temporal_address=target.address, task_queue=target.task_queue,
        **privacy_settings(),
    )  # fmt: skip
    app = create_app(settings, temporal=target.client, codec=endpoint_codec(settings))
    _, key = ApiKeyStore(settings.stores.database(var_dir=settings.delivery.var_dir)).create(
        "edges", ["read", "write", "events"]
    )
    verdicts = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://web.test") as client:
        for case in cases():
            verdicts.append(await _one(client, key, case))
    return verdicts


async def _one(client: httpx.AsyncClient, key: str, case: dict[str, Any]) -> Verdict:
    headers = dict(case.get("headers", {}))
    if case.get("auth", True) is True:
        headers["Authorization"] = f"Bearer {key}"
    elif case.get("auth"):
        headers["Authorization"] = case["auth"]
    options: dict[str, Any] = {"headers": headers}
    if "json" in case:
        options["content"], options["headers"] = json.dumps(case["json"]).encode(), {**headers, **JSON}
    elif "raw" in case:
        options["content"], options["headers"] = case["raw"], {**headers, **JSON}
    elif "form" in case:
        options["data"] = case["form"]
    try:
        response = await client.request(case["method"], case["path"], **options)
    except Exception as error:  # noqa: BLE001 - an exception out of the app is what this counts
        return Verdict(ENTRY, case["case"], "crash", f"{type(error).__name__}: {error}")
    text = response.text
    if response.status_code >= 500 or "Traceback" in text:
        return Verdict(ENTRY, case["case"], "crash", f"{response.status_code}: {text[:300]}")
    if response.status_code not in case["statuses"]:
        return Verdict(ENTRY, case["case"], "unclear", f"{response.status_code}: {text[:300]}")
    sent = case.get("json", case.get("form"))
    leaked = [v for v in strings_in(sent) if len(v) < 1000 and v in text and v not in ("nurture",)]
    if leaked:
        return Verdict(ENTRY, case["case"], "unclear", f"echoes {leaked[0][:40]!r}")
    if case["words"] and case["words"].lower() not in text.lower():
        return Verdict(ENTRY, case["case"], "unclear", f"does not say {case['words']!r}: {text[:300]}")
    return Verdict(ENTRY, case["case"], "clear", f"{response.status_code}: {text[:200]}")
