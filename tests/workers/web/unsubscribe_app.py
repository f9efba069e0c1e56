"""The unsubscribe tests' app: links signed with SECRET, a recording signal sender or the real one."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from temporalio.client import Client

from activities.common.tokens import make_unsubscribe_token
from activities.stores.ledger import SqliteSendLedger
from tests.workers.web.conftest import no_temporal
from tests.workers.web.wrap_codec import WrapCodec
from workers.settings import Settings
from workers.web.app import create_app
from workers.web.context import ConnectTemporal
from workers.web.unsubscribe import SendUnsubscribe

SECRET = "test-unsubscribe-secret"
TOKEN = make_unsubscribe_token("crm-0042", SECRET)
ONE_CLICK = b"List-Unsubscribe=One-Click"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Recorder:
    """A `send_unsubscribe` that records each call instead of signalling Temporal."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self._error = error

    async def __call__(self, lead_id: str, event_id: str) -> None:
        self.calls.append((lead_id, event_id))
        if self._error is not None:
            raise self._error


def unsubscribe_app(
    tmp_path: Path,
    ledger: SqliteSendLedger,
    send: SendUnsubscribe | None,
    *,
    temporal: Client | ConnectTemporal = no_temporal,
    **settings: Any,
) -> FastAPI:
    """The app with its unsubscribe links signed by SECRET; `send` None: the real signal."""
    values = Settings(var_dir=tmp_path, token_secret=SECRET, **settings)
    return create_app(values, temporal=temporal, codec=WrapCodec(), ledger=ledger, send_unsubscribe=send)
