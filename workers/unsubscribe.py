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
POSTs for all their users from a few addresses: keep the limit above their peak. Behind a proxy every request
comes from the proxy: with `forwarded_for`, the client is the last X-Forwarded-For entry,
the one our proxy appended (only safe when the proxy always sets it).

The answer never tells whether the lead exists: an unknown or closed lead gets the same
"you are unsubscribed" page. The token (an HMAC-signed lead id, activities/common/tokens.py) is
never logged, nor any email address or name; logs carry the lead id and the event id.

The server is stdlib `ThreadingHTTPServer` (no new dependency); each request runs on
its own thread and hands the signal to the event loop that owns the Temporal client.
Run it with `python -m workers.unsubscribe` (or `touchpoint unsubscribe-server`);
SIGTERM or Ctrl-C stops it after the requests in flight are answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import inspect
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import structlog

from activities.common.tokens import UNSUBSCRIBE_PATH, verify_unsubscribe_token
from activities.stores.ledger import SendLedger, build_ledger
from starter.client import TouchpointClient
from starter.errors import LeadClosed
from workers.process import BadConfig, connect_or_exit, run_process
from workers.settings import Settings, env_name
from workers.shutdown import stop_signals
from workflows.models import EngagementEvent

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8088
# Longer than any token we issue; bounds the work a junk request can cause.
MAX_TOKEN_LENGTH = 1024
# An RFC 8058 body is one short form field; anything more is read and dropped up to here.
MAX_BODY_BYTES = 64 * 1024
DEFAULT_RATE_PER_MINUTE = 120
# Bounds the limiter's memory; the least recently seen client is forgotten first.
MAX_TRACKED_CLIENTS = 10_000

SendUnsubscribe = Callable[[str, str], Awaitable[None] | None]
"""`send_unsubscribe(lead_id, event_id)`: tell the lead's workflow; an exception means
it was not told (the ledger's opt-out stands all the same). May be sync or async."""
# The ledger's opt-out reason: a send it skips reads "suppressed: UNSUBSCRIBE", and the
# workflow closes the lead as unsubscribed.
OPT_OUT_REASON = "unsubscribe"

log = structlog.get_logger(__name__)


def unsubscribe_event_id(token: str) -> str:
    """The same token always gives the same event id, so the workflow applies it once."""
    return "unsub-" + hashlib.sha256(token.encode()).hexdigest()[:32]


def signal_sender(client: TouchpointClient) -> Callable[[str, str], Coroutine[Any, Any, None]]:
    """`send_unsubscribe` for production: the `engagement` signal through Temporal."""

    async def send(lead_id: str, event_id: str) -> None:
        event = EngagementEvent(event_id=event_id, kind="unsubscribe", at=datetime.now(UTC))
        try:
            await client.engagement(lead_id, event)
        except LeadClosed:
            # Nothing left to stop; a closed lead gets no more touches anyway.
            log.info("unsubscribe for a closed lead", lead_id=lead_id, event_id=event_id)

    return send


class ClientLimiter:
    """A token bucket per client, `per_minute` deep and refilled at `per_minute` a minute;
    at most `max_clients` buckets are kept. Thread-safe: requests run on their own threads."""

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


class UnsubscribeServer:
    """Serves `/u/<token>` on host:port from a background thread.

    Call `start()` from inside the event loop that owns the client `send_unsubscribe`
    uses: coroutines it returns run on that loop, so the loop must not be blocked while
    requests are served. Started outside a loop, each coroutine runs on its own loop
    in the request's thread.
    """

    def __init__(
        self,
        *,
        secret: str | Sequence[str],
        send_unsubscribe: SendUnsubscribe,
        ledger: SendLedger,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
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
        self._company_name = company_name
        self._send_timeout = send_timeout
        self._limiter = ClientLimiter(rate_per_minute)
        self._forwarded_for = forwarded_for
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Bound here, so a port in use fails the constructor, before anything else starts.
        self._httpd = _HttpServer((host, port), _UnsubscribeHandler, self)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._httpd.server_address[0])
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="touchpoint-unsubscribe", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, wait for the requests in flight, and close the socket.

        Blocks: from the loop that runs `send_unsubscribe`, call it through
        `asyncio.to_thread`, or in-flight requests cannot finish.
        """
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> UnsubscribeServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------ per request

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

    def record_opt_out(self, lead_id: str) -> None:
        """The durable part: no email or text to this lead from now on. Raises when not recorded."""
        self._ledger.record_opt_out(lead_id, reason=OPT_OUT_REASON, at=datetime.now(UTC))

    def unsubscribe(self, lead_id: str, event_id: str) -> None:
        """Tell the lead's workflow; raises when it could not be told."""
        result = self._send_unsubscribe(lead_id, event_id)
        if not inspect.isawaitable(result):
            return
        if self._loop is None or self._loop.is_closed():
            asyncio.run(_awaited(result))
            return
        future = asyncio.run_coroutine_threadsafe(_awaited(result), self._loop)
        try:
            future.result(timeout=self._send_timeout)
        except TimeoutError:
            future.cancel()
            raise

    @property
    def company_name(self) -> str | None:
        return self._company_name


async def _awaited(awaitable: Awaitable[None]) -> None:
    await awaitable


class _HttpServer(ThreadingHTTPServer):
    # Join request threads on server_close, so a stop answers every request in flight.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], app: UnsubscribeServer) -> None:
        self.app = app
        super().__init__(address, handler)


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


class _UnsubscribeHandler(BaseHTTPRequestHandler):
    server: _HttpServer
    server_version = "touchpoint-unsubscribe"
    sys_version = ""
    # Seconds a client may stall mid-request before its thread is freed.
    timeout = 30

    def do_GET(self) -> None:
        if self._limited():
            return
        token = self._token()
        if token is None:
            return self._reply(HTTPStatus.NOT_FOUND, "Not found.\n")
        app = self.server.app
        if app.lead_for(token) is None:
            self._log("unsubscribe link not valid", HTTPStatus.BAD_REQUEST)
            return self._reply(HTTPStatus.BAD_REQUEST, _BAD_TOKEN)
        self._reply(HTTPStatus.OK, _confirm_page(token, app.company_name), html_page=True)

    # The same status and headers as GET; _reply leaves the body out.
    do_HEAD = do_GET

    def do_POST(self) -> None:
        self._drain_body()
        if self._limited():
            return
        token = self._token()
        if token is None:
            return self._reply(HTTPStatus.NOT_FOUND, "Not found.\n")
        app = self.server.app
        lead_id = app.lead_for(token)
        if lead_id is None:
            self._log("unsubscribe link not valid", HTTPStatus.BAD_REQUEST)
            return self._reply(HTTPStatus.BAD_REQUEST, _BAD_TOKEN)
        event_id = unsubscribe_event_id(token)
        try:
            app.record_opt_out(lead_id)
        except Exception as err:
            # Not a success: the mail client or the person can try again, and nothing
            # was promised that did not happen.
            self._log(
                "unsubscribe not recorded: the send ledger refused the opt-out",
                HTTPStatus.SERVICE_UNAVAILABLE,
                level="error",
                lead_id=lead_id,
                event_id=event_id,
                error=type(err).__name__,
            )
            return self._reply(HTTPStatus.SERVICE_UNAVAILABLE, _TRY_AGAIN, retry_after=60)
        try:
            app.unsubscribe(lead_id, event_id)
        except Exception as err:
            # Applied all the same (see the module docstring); someone must look at why.
            self._log(
                "unsubscribed in the ledger, but the lead's workflow was not signalled: "
                "check the namespace and that the workflow id is lead-<lead id>",
                HTTPStatus.OK,
                level="error",
                lead_id=lead_id,
                event_id=event_id,
                error=type(err).__name__,
            )
        else:
            self._log("unsubscribed", HTTPStatus.OK, lead_id=lead_id, event_id=event_id)
        self._reply(HTTPStatus.OK, _done_page(app.company_name), html_page=True)

    def _limited(self) -> bool:
        seconds = self.server.app.retry_after(self.client_address[0], self.headers.get("X-Forwarded-For"))
        if seconds is None:
            return False
        self._log("unsubscribe request rate-limited", HTTPStatus.TOO_MANY_REQUESTS, retry_after=seconds)
        self._reply(HTTPStatus.TOO_MANY_REQUESTS, _TOO_MANY.format(seconds=seconds), retry_after=seconds)
        return True

    def _token(self) -> str | None:
        path = urlsplit(self.path).path
        if not path.startswith(UNSUBSCRIBE_PATH):
            return None
        token = unquote(path[len(UNSUBSCRIBE_PATH) :])
        return token if token and "/" not in token else None

    def _drain_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            self.close_connection = True
        if length > 0:
            self.rfile.read(min(length, MAX_BODY_BYTES))

    def _reply(
        self, status: HTTPStatus, text: str, *, html_page: bool = False, retry_after: int | None = None
    ) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8" if html_page else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        # The token in the URL is a credential for this one lead: keep it out of caches
        # and Referer headers, and the page out of search engines and frames.
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Robots-Tag", "noindex, nofollow")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        )
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _log(self, message: str, status: HTTPStatus, *, level: str = "info", **fields: Any) -> None:
        getattr(log, level)(message, method=self.command, status=int(status), **fields)

    def log_message(self, format: str, *args: Any) -> None:
        # The stdlib access log prints the request line, token included: replaced by _log.
        pass


# ------------------------------------------------------------------ process


async def run_unsubscribe_server(settings: Settings) -> None:
    token_secret, process = settings.delivery.token_secret, settings.process
    if token_secret is None:
        raise BadConfig(
            f"set {env_name('token_secret')} (the secret the workers sign the emails' unsubscribe links with)"
        )
    client = TouchpointClient(await connect_or_exit(settings), task_queue=settings.connection.task_queue)
    try:
        server = UnsubscribeServer(
            secret=settings.delivery.token_secrets,
            send_unsubscribe=signal_sender(client),
            ledger=build_ledger(settings.stores.ledger, beside=settings.delivery.outbox_dir),
            host=process.unsubscribe_host,
            port=process.unsubscribe_port,
            company_name=settings.content.company_name,
            rate_per_minute=process.unsubscribe_rate_per_minute,
            forwarded_for=process.unsubscribe_forwarded_for,
        )
    except OSError as err:
        log.error("cannot listen", host=process.unsubscribe_host, port=process.unsubscribe_port, error=str(err))
        raise SystemExit(1) from None
    with stop_signals() as stop:
        server.start()
        log.info("unsubscribe server listening", url=server.url)
        sig = await stop
        log.info("unsubscribe server stopping: answering requests in flight", signal=sig.name)
        # In a thread: the requests in flight need this loop to send their signals.
        await asyncio.to_thread(server.stop)
    log.info("unsubscribe server stopped")


def main() -> NoReturn:
    """`python -m workers.unsubscribe` and `touchpoint unsubscribe-server`."""
    run_process("touchpoint unsubscribe-server", run_unsubscribe_server)


if __name__ == "__main__":
    main()
