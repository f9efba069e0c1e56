"""The console's routes. Every command goes through the same validated update the CLI and
the API send; a refusal is shown in the lead's own words, success shows the new state.
No page runs a script: the Content-Security-Policy allows none."""

import base64
import binascii
import secrets
import zoneinfo
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from starter.client import TouchpointClient
from starter.errors import CommandRejected, LeadNotFound, TouchpointError
from workers.console import auth
from workers.console.config import ConsoleConfig
from workflows.models import CloseOutcome, Mode

HERE = Path(__file__).parent
PAGE_SIZE = 50
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
CLOSE_OUTCOMES = list(CloseOutcome.__args__)  # type: ignore[attr-defined]
GetClient = Callable[[], Awaitable[TouchpointClient]]
# Each action: the client method and how the form becomes its command.
ACTIONS: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, Any]]]] = {
    "not-now": ("snooze", lambda f: {"until": f["until"]} if f.get("until") else {"months": int(f.get("months") or 3)}),
    "pause": ("pause", lambda f: {"reason": f.get("reason", ""), "until": f.get("until") or None}),
    "resume": ("resume", lambda f: {"note": f.get("note", "")}),
    "move": ("move", lambda f: {"to": f.get("to", ""), "reason": f.get("reason", "")}),
    "close": ("close", lambda f: {"outcome": f.get("outcome", ""), "note": f.get("note", "")}),
    "complete-task": ("complete_task", lambda f: {"task_id": f.get("task_id", ""), "result": f.get("result", "")}),
}


class SignIn(Exception):
    """Not signed in: answered with a redirect to the sign-in page."""


def create_console(
    get_client: GetClient, config: ConsoleConfig, *, results_page: Callable[[], Awaitable[dict[str, Any]]] | None = None
) -> FastAPI:
    console = FastAPI(title="Touchpoint console", docs_url=None, redoc_url=None, openapi_url=None)
    secret = config.session_secret.get_secret_value() if config.session_secret else secrets.token_urlsafe(32)
    console.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="touchpoint_console",
        max_age=int(config.session_hours * 3600),
        same_site="strict",
        https_only=config.secure_cookies,
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["local"] = _local
    console.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @console.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @console.exception_handler(SignIn)
    async def to_sign_in(request: Request, _error: SignIn) -> Response:
        return RedirectResponse(request.url_for("login"), status_code=303)

    def staff(request: Request) -> auth.Staff:
        who = auth.signed_in(request, config)
        if who is None:
            raise SignIn
        return who

    def page(request: Request, name: str, who: auth.Staff | None, status: int = 200, **context: Any) -> HTMLResponse:
        flash = request.session.pop("flash", None)
        context |= {"who": who, "csrf": auth.csrf_token(request), "flash": flash, "sso": bool(config.sso_user_header)}
        return templates.TemplateResponse(request, name, context, status_code=status)

    def back(request: Request, route: str, message: str, kind: str = "ok", **params: str) -> RedirectResponse:
        request.session["flash"] = {"kind": kind, "text": message}
        return RedirectResponse(request.url_for(route, **params), status_code=303)

    # ------------------------------------------------------------- sign in

    @console.get("/login", response_class=HTMLResponse, name="login")
    async def login_page(request: Request) -> Response:
        return page(request, "login.html", None)

    @console.post("/login", name="login_submit")
    async def login(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not auth.csrf_ok(request, form.get("csrf")):
            return page(request, "login.html", None, status=400, error="The form expired: sign in again.")
        who = auth.check_password(config, form.get("username", ""), form.get("password", ""))
        if who is None:
            return page(request, "login.html", None, status=401, error="Wrong user name or password.")
        request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
        request.session.update({"user": who.username, "role": who.role})
        return RedirectResponse(request.url_for("leads"), status_code=303)

    @console.post("/logout", name="logout")
    async def logout(request: Request) -> Response:
        form = await request.form()
        if auth.csrf_ok(request, str(form.get("csrf", ""))):
            request.session.clear()
        return RedirectResponse(request.url_for("login"), status_code=303)

    # ------------------------------------------------------------- leads

    @console.get("/", response_class=HTMLResponse, name="leads")
    async def leads(request: Request) -> Response:
        who = staff(request)
        query = request.query_params
        if lead_id := query.get("id", "").strip():
            return RedirectResponse(request.url_for("lead", lead_id=lead_id.removeprefix("lead-")), status_code=303)
        filters = {k: query.get(k) or None for k in ("mode", "owner", "segment")}
        error, rows, next_page = None, [], None
        try:
            if filters["mode"] is not None:
                Mode(filters["mode"])
            token = base64.urlsafe_b64decode(query["page"]) if query.get("page") else None
            rows, token = await (await get_client()).list_page(**filters, page_size=PAGE_SIZE, page_token=token)
            next_page = base64.urlsafe_b64encode(token).decode() if token else None
        except (ValueError, binascii.Error):
            error = "Unknown mode or page: pick a mode from the list and start from the first page."
        except TouchpointError as failed:
            error = str(failed)
        return page(request, "leads.html", who, rows=rows, filters=filters, next_page=next_page, error=error,
                    modes=[m.value for m in Mode])  # fmt: skip

    @console.get("/leads/{lead_id}", response_class=HTMLResponse, name="lead")
    async def lead(request: Request, lead_id: str) -> Response:
        who = staff(request)
        client = await get_client()
        try:
            state = await client.state(lead_id)
            enrolled = await client.enrollment(lead_id)
        except LeadNotFound as missing:
            return page(request, "missing.html", who, status=404, message=str(missing))
        except TouchpointError as failed:
            return page(request, "missing.html", who, status=503, message=str(failed))
        return page(request, "lead.html", who, state=state, enrolled=enrolled, zone=enrolled.lead.timezone,
                    outcomes=CLOSE_OUTCOMES, today=date.today().isoformat())  # fmt: skip

    @console.post("/leads/{lead_id}/{action}", name="act")
    async def act(request: Request, lead_id: str, action: str) -> Response:
        who = staff(request)
        form = {k: str(v).strip() for k, v in (await request.form()).items()}
        if not auth.csrf_ok(request, form.get("csrf")):
            return back(request, "lead", "The form expired: reload the page and try again.", "error", lead_id=lead_id)
        if not who.may_act:
            return back(request, "lead", "Your role (viewer) may look but not act.", "error", lead_id=lead_id)
        if action not in ACTIONS:
            return back(request, "lead", f"No such action: {action[:40]}.", "error", lead_id=lead_id)
        method, command = ACTIONS[action]
        try:
            state = await getattr(await get_client(), method)(lead_id, command(form))
        except CommandRejected as refused:
            return back(request, "lead", f"Not done: {refused.reason}", "error", lead_id=lead_id)
        except (TouchpointError, ValueError) as failed:
            return back(request, "lead", f"Not done: {failed}", "error", lead_id=lead_id)
        return back(request, "lead", _done(action, state), lead_id=lead_id)

    # ------------------------------------------------------------- results

    @console.get("/results", response_class=HTMLResponse, name="results")
    async def results(request: Request) -> Response:
        who = staff(request)
        if results_page is None:
            return page(request, "missing.html", who, status=404, message="No results store is configured.")
        return page(request, "results.html", who, **await results_page())

    return console


def _done(action: str, state: Any) -> str:
    if state.mode == Mode.SNOOZED and state.snoozed_until:
        return f"Snoozed until {state.snoozed_until:%Y-%m-%d}; then a check-in, then nurture."
    return f"Done: the lead is {state.mode.value.replace('_', ' ')}" + (
        f" ({state.outcome.value})." if state.outcome else "."
    )


def _local(moment: datetime | None, zone: str) -> str:
    """A time in the lead's zone, as staff read it."""
    if moment is None:
        return "—"
    try:
        local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local = moment
    return f"{local:%a %d %b %Y, %H:%M} ({zone})"
