"""Issue 15: the staff console over HTTP (httpx in-process): sign-in, roles, CSRF, the
security headers, and lead data shown as text whatever it holds."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from starter.client import TouchpointClient
from tests.integration.helpers import RunningWorker
from tests.support.console import PASSWORDS, console_app, console_config
from workflows.models import EnrollLead

pytestmark = pytest.mark.integration
MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def enroll(worker: RunningWorker, **lead) -> str:
    lead_id = f"console-{uuid.uuid4().hex[:8]}"
    body = {"lead": {"id": lead_id, "email": "dana@acme.example", "timezone": "America/Chicago", **lead},
            "mode": "nurture"}  # fmt: skip
    await TouchpointClient(worker.client, task_queue=worker.task_queue).enroll(EnrollLead.model_validate(body))
    return lead_id


def browser(worker: RunningWorker, **config) -> httpx.AsyncClient:
    app = console_app(worker, console_config(**config) if config else None)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://console.test")


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


async def sign_in(client: httpx.AsyncClient, user: str) -> None:
    form = await client.get("/console/login")
    signed = await client.post("/console/login", data={"username": user, "password": PASSWORDS[user],
                                                        "csrf": csrf_of(form.text)})  # fmt: skip
    assert signed.status_code == 303, signed.text


async def test_every_page_needs_a_signed_in_user_and_sends_a_strict_csp(worker: RunningWorker) -> None:
    async with browser(worker) as client:
        page = await client.get("/console/")
        assert page.status_code == 303 and page.headers["location"].endswith("/console/login")
        login = await client.get("/console/login")
        csp = login.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
        assert login.headers["x-frame-options"] == "DENY"
        wrong = await client.post("/console/login", data={"username": "sam", "password": "nope",
                                                           "csrf": csrf_of(login.text)})  # fmt: skip
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
        no_csrf = await client.post("/console/login", data={"username": "sam", "password": PASSWORDS["sam"]})
        assert no_csrf.status_code == 400
        await sign_in(client, "sam")
        cookie = next(c for c in client.cookies.jar if c.name == "touchpoint_console")
        assert cookie.secure and cookie.has_nonstandard_attr("httponly")


async def test_lead_data_is_shown_as_text_and_only_staff_see_contact_details(worker: RunningWorker) -> None:
    lead_id = await enroll(worker, first_name=MARKUP[:60], company=MARKUP, attributes={"note": MARKUP})
    async with browser(worker) as staff:
        await sign_in(staff, "sam")
        page = (await staff.get(f"/console/leads/{lead_id}")).text
    assert "dana@acme.example" in page
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    async with browser(worker) as viewer:
        await sign_in(viewer, "vic")
        page = (await viewer.get(f"/console/leads/{lead_id}")).text
        assert "dana@acme.example" not in page and "Contact details are shown to staff" in page
        assert 'id="not-now"' not in page
        # A viewer's forged command is refused however it is sent.
        refused = await viewer.post(f"/console/leads/{lead_id}/not-now", data={"months": "3", "csrf": csrf_of(page)})
        assert refused.status_code == 303
        assert "may look but not act" in (await viewer.get(f"/console/leads/{lead_id}")).text


async def test_a_command_without_the_forms_token_changes_nothing(worker: RunningWorker) -> None:
    lead_id = await enroll(worker)
    async with browser(worker) as staff:
        await sign_in(staff, "sam")
        await staff.post(f"/console/leads/{lead_id}/not-now", data={"months": "3", "csrf": "forged"})
        page = (await staff.get(f"/console/leads/{lead_id}")).text
    assert "The form expired" in page and 'id="mode">nurture<' in page


async def test_the_lead_list_filters_and_finds_by_id(worker: RunningWorker) -> None:
    lead_id = await enroll(worker, owner="rep-console")
    async with browser(worker) as staff:
        await sign_in(staff, "sam")
        found = await staff.get("/console/", params={"id": f"lead-{lead_id}"})
        assert found.status_code == 303 and found.headers["location"].endswith(f"/console/leads/{lead_id}")
        bad = await staff.get("/console/", params={"mode": "sideways"})
        assert "Unknown mode or page" in bad.text
        missing = await staff.get("/console/leads/no-such-lead")
        assert missing.status_code == 404 and "no lead no-such-lead is enrolled" in missing.text


async def test_a_single_sign_on_proxy_names_the_user_and_role(worker: RunningWorker) -> None:
    lead_id = await enroll(worker)
    async with browser(worker, sso_user_header="X-Forwarded-User", sso_role_header="X-Forwarded-Role") as client:
        anonymous = await client.get(f"/console/leads/{lead_id}")
        assert anonymous.status_code == 303
        as_staff = await client.get(f"/console/leads/{lead_id}", headers={"X-Forwarded-User": "pat",
                                                                           "X-Forwarded-Role": "staff"})  # fmt: skip
        assert "dana@acme.example" in as_staff.text and "pat (staff)" in as_staff.text
