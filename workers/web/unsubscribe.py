"""The one-click unsubscribe endpoint: `/u/<token>`, the link in every email's
List-Unsubscribe header and footer.

POST (RFC 8058 `List-Unsubscribe=One-Click`, or the button on the page) unsubscribes at
once. First it records an opt-out for the lead in the send ledger, which every email and
text send checks, so a restarted or re-enrolled lead is never contacted again; only then
does it answer "you are unsubscribed". Then it sends the `engagement` signal
`{"kind": "unsubscribe"}` to `lead-<lead id>`, with an event id derived from the token,
so repeated POSTs are deduplicated by the workflow, and the lead closes at once.

"Applied" means the opt-out is recorded. When it cannot be, the answer is 503 (try
again) and an ERROR log. When it is recorded but the signal fails (no such workflow:
wrong namespace or a lead id that is not its workflow's; Temporal unreachable), the
answer is still "you are unsubscribed", which holds, and the failure is logged at ERROR:
the workflow closes itself at its next touch, which is skipped as suppressed.

A POST without the RFC 8058 body (`List-Unsubscribe=One-Click`) unsubscribes too: the
signed token is the consent, and a mail client that posts an empty body still means it.
GET only shows a page with that button: mail scanners and link previewers follow every
GET, and a GET that unsubscribed would unsubscribe people who never asked. HEAD answers
as GET would, without the body.

Each client address gets `rate_per_minute` requests (a token bucket, a full minute's
worth at once); more are answered 429 with Retry-After. Mailbox providers send one-click
POSTs for all their users from a few addresses: keep the limit above their peak. Behind
a proxy every request comes from the proxy: with `forwarded_for`, the client is the last
X-Forwarded-For entry, the one our proxy appended (only safe when the proxy always sets it).

The answer never tells whether the lead exists: an unknown or closed lead gets the same
"you are unsubscribed" page. The token (an HMAC-signed lead id, activities/common/tokens.py)
is never logged, nor any email address or name; logs carry the lead id and the event id.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request, Response

from activities.common.tokens import UNSUBSCRIBE_PATH, verify_unsubscribe_token
from activities.stores.ledger import SendLedger
from starter.client import TouchpointClient
from starter.errors import LeadClosed
from workers.web.context import TemporalSource
from workflows.models import EngagementEvent

# Longer than any token we issue; bounds the work a junk request can cause.
MAX_TOKEN_LENGTH = 1024
DEFAULT_RATE_PER_MINUTE = 120
# Bounds the limiter's memory; the least recently seen client is forgotten first.
MAX_TRACKED_CLIENTS = 10_000
# The ledger's opt-out reason: a send it skips reads "suppressed: UNSUBSCRIBE", and the
# workflow closes the lead as unsubscribed.
OPT_OUT_REASON = "unsubscribe"

SendUnsubscribe = Callable[[str, str], Awaitable[None]]
"""`send_unsubscribe(lead_id, event_id)`: tell the lead's workflow; an exception means
it was not told (the ledger's opt-out stands all the same)."""

log = structlog.get_logger(__name__)
router = APIRouter()


def unsubscribe_event_id(token: str) -> str:
    """The same token always gives the same event id, so the workflow applies it once."""
    return "unsub-" + hashlib.sha256(token.encode()).hexdigest()[:32]


def signal_sender(temporal: TemporalSource, *, task_queue: str) -> SendUnsubscribe:
    """`send_unsubscribe` for production: the `engagement` signal through Temporal."""

    async def send(lead_id: str, event_id: str) -> None:
        client = TouchpointClient(await temporal.client(), task_queue=task_queue)
        event = EngagementEvent(event_id=event_id, kind="unsubscribe", at=datetime.now(UTC))
        try:
            await client.engagement(lead_id, event)
        except LeadClosed:
            # Nothing left to stop; a closed lead gets no more touches anyway.
            log.info("unsubscribe for a closed lead", lead_id=lead_id, event_id=event_id)

    return send


class ClientLimiter:
    """A token bucket per client, `per_minute` deep and refilled at `per_minute` a minute;
    at most `max_clients` buckets are kept. Thread-safe."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_clients: int = MAX_TRACKED_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1 or max_clients < 1:
            raise ValueError("the unsubscribe rate limit needs per_minute >= 1 and max_clients >= 1")
        self._capacity = float(per_minute)
        self._per_second = per_minute / 60
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def retry_after(self, client: str) -> int | None:
        """None when `client` may go on (and its request is counted), else seconds to wait."""
        with self._lock:
            now = self._clock()
            tokens, seen = self._buckets.pop(client, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - seen) * self._per_second)
            allowed = tokens >= 1
            self._buckets[client] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
            return None if allowed else max(1, math.ceil((1 - tokens) / self._per_second))


class Unsubscribes:
    """The endpoint's collaborators and state: token secrets, the ledger, the signal, the limiter."""

    def __init__(
        self,
        *,
        secret: str | Sequence[str],
        send_unsubscribe: SendUnsubscribe,
        ledger: SendLedger,
        company_name: str | None = None,
        send_timeout: float = 15.0,
        rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
        forwarded_for: bool = False,
    ) -> None:
        # Several secrets while one is rotated out: the links in older emails keep working.
        self._secrets = [secret] if isinstance(secret, str) else list(secret)
        if not self._secrets or not all(self._secrets):
            raise ValueError("the unsubscribe token secret is empty")
        self._send_unsubscribe = send_unsubscribe
        self._ledger = ledger
        self.company_name = company_name
        self._send_timeout = send_timeout
        self._limiter = ClientLimiter(rate_per_minute)
        self._forwarded_for = forwarded_for

    def retry_after(self, peer: str, forwarded_for: str | None) -> int | None:
        """None when this client may go on, else the seconds it must wait."""
        client = peer
        if self._forwarded_for and forwarded_for:
            client = forwarded_for.rpartition(",")[2].strip() or peer
        return self._limiter.retry_after(client)

    def lead_for(self, token: str) -> str | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        return verify_unsubscribe_token(token, self._secrets)

    async def record_opt_out(self, lead_id: str) -> None:
        """The durable part: no email or text to this lead from now on. Raises when not recorded."""
        # In a thread: both ledgers block (SQLite, boto3).
        await asyncio.to_thread(self._ledger.record_opt_out, lead_id, reason=OPT_OUT_REASON, at=datetime.now(UTC))

    async def unsubscribe(self, lead_id: str, event_id: str) -> None:
        """Tell the lead's workflow; raises when it could not be told in time."""
        async with asyncio.timeout(self._send_timeout):
            await self._send_unsubscribe(lead_id, event_id)


def unsubscribes(request: Request) -> Unsubscribes:
    state = request.app.state.unsubscribes
    assert isinstance(state, Unsubscribes)
    return state


Endpoint = Annotated[Unsubscribes, Depends(unsubscribes)]

# ------------------------------------------------------------------ pages

_BAD_TOKEN = (
    "This unsubscribe link is not valid. Copy the whole link from the email into your "
    "browser, or reply to the email and ask to be unsubscribed.\n"
)
_TRY_AGAIN = "We could not record your request just now. Please try again in a few minutes.\n"
_TOO_MANY = "Too many requests from your address. Please wait {seconds} seconds, then try again.\n"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}
button{{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}}</style>
</head><body>
<h1>{title}</h1>
{body}
</body></html>
"""

# The token in the URL is a credential for this one lead: keep it out of caches and
# Referer headers, and the page out of search engines and frames.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}


def _confirm_page(token: str, company: str | None) -> str:
    sender = f" from {html.escape(company)}" if company else ""
    action = html.escape(UNSUBSCRIBE_PATH + token, quote=True)
    body = (
        f"<p>Stop all follow-up emails and texts{sender}?</p>\n"
        f'<form method="post" action="{action}">\n'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">\n'
        '<button type="submit">Unsubscribe</button>\n'
        "</form>"
    )
    return _PAGE.format(title="Unsubscribe", body=body)


def _done_page(company: str | None) -> str:
    sender = f" from {html.escape(company)}" if company else ""
    body = f"<p>You will not receive any more follow-up emails or texts{sender}.</p>"
    return _PAGE.format(title="You are unsubscribed", body=body)


def _reply(status: HTTPStatus, text: str, *, html_page: bool = False, retry_after: int | None = None) -> Response:
    headers = dict(SECURITY_HEADERS)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    media_type = "text/html; charset=utf-8" if html_page else "text/plain; charset=utf-8"
    # HEAD gets the same status and headers; the server leaves the body out.
    return Response(text, status_code=status, media_type=media_type, headers=headers)


def _log(request: Request, message: str, status: HTTPStatus, *, level: str = "info", **fields: Any) -> None:
    getattr(log, level)(message, method=request.method, status=int(status), **fields)


def _limited(request: Request, endpoint: Unsubscribes) -> Response | None:
    peer = request.client.host if request.client else ""
    seconds = endpoint.retry_after(peer, request.headers.get("X-Forwarded-For"))
    if seconds is None:
        return None
    _log(request, "unsubscribe request rate-limited", HTTPStatus.TOO_MANY_REQUESTS, retry_after=seconds)
    return _reply(HTTPStatus.TOO_MANY_REQUESTS, _TOO_MANY.format(seconds=seconds), retry_after=seconds)


# ------------------------------------------------------------------ routes

# `<base>/u/<token>`: the path of every link already sent; it must not change.
_ROUTE = UNSUBSCRIBE_PATH + "{token}"


@router.api_route(_ROUTE, methods=["GET", "HEAD"], include_in_schema=False)
async def confirm(token: str, request: Request, endpoint: Endpoint) -> Response:
    """The page with the button; unsubscribes nobody."""
    if limited := _limited(request, endpoint):
        return limited
    if endpoint.lead_for(token) is None:
        _log(request, "unsubscribe link not valid", HTTPStatus.BAD_REQUEST)
        return _reply(HTTPStatus.BAD_REQUEST, _BAD_TOKEN)
    return _reply(HTTPStatus.OK, _confirm_page(token, endpoint.company_name), html_page=True)


@router.post(_ROUTE, include_in_schema=False)
async def unsubscribe(token: str, request: Request, endpoint: Endpoint) -> Response:
    """One click: the opt-out recorded, then the lead's workflow told."""
    if limited := _limited(request, endpoint):
        return limited
    lead_id = endpoint.lead_for(token)
    if lead_id is None:
        _log(request, "unsubscribe link not valid", HTTPStatus.BAD_REQUEST)
        return _reply(HTTPStatus.BAD_REQUEST, _BAD_TOKEN)
    event_id = unsubscribe_event_id(token)
    try:
        await endpoint.record_opt_out(lead_id)
    except Exception as err:
        # Not a success: the mail client or the person can try again, and nothing was
        # promised that did not happen.
        _log(
            request,
            "unsubscribe not recorded: the send ledger refused the opt-out",
            HTTPStatus.SERVICE_UNAVAILABLE,
            level="error",
            lead_id=lead_id,
            event_id=event_id,
            error=type(err).__name__,
        )
        return _reply(HTTPStatus.SERVICE_UNAVAILABLE, _TRY_AGAIN, retry_after=60)
    try:
        await endpoint.unsubscribe(lead_id, event_id)
    except Exception as err:
        # Applied all the same (see the module docstring); someone must look at why.
        _log(
            request,
            "unsubscribed in the ledger, but the lead's workflow was not signalled: "
            "check the namespace and that the workflow id is lead-<lead id>",
            HTTPStatus.OK,
            level="error",
            lead_id=lead_id,
            event_id=event_id,
            error=type(err).__name__,
        )
    else:
        _log(request, "unsubscribed", HTTPStatus.OK, lead_id=lead_id, event_id=event_id)
    return _reply(HTTPStatus.OK, _done_page(endpoint.company_name), html_page=True)
