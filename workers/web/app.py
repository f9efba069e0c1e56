"""`create_app`: the FastAPI application of `touchpoint web`, built around the
collaborators it is handed (settings, Temporal, the payload codec, the send ledger), so
tests build it with their own and the process with the real ones.

Routers, one per area: the codec (`/encode`, `/decode`), health (`/healthz`,
`/readyz`), and the unsubscribe links (`/u/<token>`, served when a token secret is set).
A new area is one more module with an `APIRouter`, included here. Two areas with their
own error pages and middleware are sub-applications: the HTTP API at `/v1`
(workers/api) and the staff console at `/console` (workers/console).
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from activities.content.cadences import CadenceStore
from activities.stores.api_keys import ApiKeyStore
from activities.stores.ledger import SendLedger, build_ledger
from starter import privacy_commands
from starter.client import TouchpointClient
from workers.api.v1 import create_api
from workers.console.app import create_console
from workers.settings import Settings, env_name
from workers.web import codec as codec_endpoint
from workers.web import health, unsubscribe
from workers.web.context import ConnectTemporal, TemporalSource, WebContext
from workers.web.unsubscribe import SendUnsubscribe, Unsubscribes, signal_sender

# What the Temporal UI and CLI send with a codec request.
CODEC_HEADERS = ("X-Namespace", "Content-Type", "Authorization")
# How long a browser may reuse a preflight answer.
PREFLIGHT_MAX_AGE_SECONDS = 600

log = structlog.get_logger(__name__)


class WebConfigError(ValueError):
    """Settings the app cannot run with; the message names the variables to set."""


def check_codec_token(settings: Settings) -> None:
    """Decoded payloads are personal data: beyond loopback, the codec needs its token."""
    web = settings.web
    if not web.on_loopback and web.web_codec_token is None:
        raise WebConfigError(
            f"{env_name('web_host')} {web.web_host} is not a loopback address, so anyone who can reach it "
            f"could decode payloads: set {env_name('web_codec_token')} (make one with `openssl rand -hex 32`), "
            f"or listen on 127.0.0.1"
        )


def create_app(
    settings: Settings,
    *,
    temporal: Client | ConnectTemporal,
    codec: PayloadCodec,
    ledger: SendLedger | None = None,
    send_unsubscribe: SendUnsubscribe | None = None,
) -> FastAPI:
    """The app. `temporal` is a client or a coroutine function that connects one (on
    first use, so the app serves while Temporal is down); `ledger` defaults to the one
    the settings name; `send_unsubscribe` to the `engagement` signal through Temporal.

    Raises WebConfigError for settings it must not run with (see `check_codec_token`).
    """
    check_codec_token(settings)
    source = TemporalSource(temporal)
    ledger = ledger or build_ledger(settings.stores.ledger, beside=settings.delivery.outbox_dir)
    app = FastAPI(title="Touchpoint", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = WebContext(
        settings=settings,
        temporal=source,
        codec=codec,
        ledger=ledger,
        database_url=settings.stores.database(var_dir=settings.delivery.var_dir),
    )
    app.include_router(health.router)
    app.include_router(codec_endpoint.router)
    if settings.delivery.token_secrets:
        app.state.unsubscribes = Unsubscribes(
            secret=settings.delivery.token_secrets,
            send_unsubscribe=send_unsubscribe or signal_sender(source, task_queue=settings.connection.task_queue),
            ledger=ledger,
            company_name=settings.content.company_name,
            rate_per_minute=settings.web.unsubscribe_rate_per_minute,
            forwarded_for=settings.web.unsubscribe_forwarded_for,
        )
        app.include_router(unsubscribe.router)
    else:
        # Without a secret no link can be verified (and the workers sign none).
        log.warning("unsubscribe links not served: no token secret", set=env_name("token_secret"))
    leads = _lead_client(source, settings)
    app.mount("/v1", create_api(leads, ApiKeyStore(app.state.web.database_url)))
    app.mount("/console", create_console(leads, settings.staff.console))

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    app.add_middleware(CodecCors, origins=settings.web.web_cors_origins)
    return app


def _lead_client(source: TemporalSource, settings: Settings):  # noqa: ANN202 - a coroutine function
    """The TouchpointClient the API and the console share, made on first use."""
    made: list[TouchpointClient] = []

    async def get() -> TouchpointClient:
        if not made:
            made.append(
                TouchpointClient(
                    await source.client(),
                    task_queue=settings.connection.task_queue,
                    email_task_queue=settings.connection.email_task_queue,
                    known_cadences=lambda: CadenceStore(settings.content.cadences_dir).ids(),
                    # An erased person is never enrolled again, through the API either.
                    erased=privacy_commands.erased_people(settings),
                )
            )
        return made[0]

    return get


class CodecCors:
    """CORS for the codec's routes only: the Temporal UI's origins may call /encode and
    /decode (preflight answered, a disallowed origin's refused); every other route stays
    same-origin, so a page on a UI origin cannot script the rest of the app.

    No credentials (cookies): the codec's only credential is the bearer token.
    """

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        self._app = app
        self._cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["POST"],
            allow_headers=list(CODEC_HEADERS),
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in codec_endpoint.CODEC_PATHS:
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
