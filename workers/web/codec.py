"""The codec endpoint: POST `/encode` and `/decode` for the Temporal Web UI and
`temporal --codec-endpoint`, so people read payloads that the server stores encoded.

The protocol is Temporal's codec server protocol: the body is a `Payloads` message in
protobuf JSON, `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`,
and so is the answer; a body that is not one, or that the codec refuses, gets 400. The
UI calls from its own origin, so the browser asks first (CORS preflight): app.py answers
it for the configured origins only. The UI and the CLI send `X-Namespace`.

Decoded payloads hold personal data: with a codec token configured (required when the
app listens beyond loopback) every request must carry `Authorization: Bearer <token>`,
answers are never cached, and nothing but sizes is logged.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload

from workers.web.context import Web

# Far above what the UI sends for one event (Temporal caps a payload at 2 MB), low
# enough that a junk request cannot hold much memory.
MAX_BODY_BYTES = 32 * 1024 * 1024
CODEC_PATHS = ("/encode", "/decode")
_SHAPE = '{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}'
_FIELDS = {name for field in Payload.DESCRIPTOR.fields for name in (field.name, field.json_name)}
# Standard or URL-safe, padded or not: what protobuf JSON accepts for bytes.
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_FIELD_HINTS = {
    "metadata": "an object whose values are base64 strings",
    "data": "a base64 string",
}

log = structlog.get_logger(__name__)
router = APIRouter()


class BadBody(ValueError):
    """A body that is not a Payloads message; the message says what is wrong, never quoting a value."""


def parse_payloads(body: bytes) -> list[Payload]:
    """The payloads of a `Payloads` message in protobuf JSON."""
    try:
        document = json.loads(body)
    except ValueError:
        raise BadBody(f"the body is not JSON: send {_SHAPE}") from None
    if not isinstance(document, dict):
        raise BadBody(f"the body is not a JSON object: send {_SHAPE}")
    if unknown := sorted(set(document) - {"payloads"}):
        raise BadBody(f'the body has a field other than "payloads" ({_name(unknown[0])}): send {_SHAPE}')
    # Protobuf JSON leaves an empty list out: {} is no payloads.
    items = document.get("payloads", [])
    if not isinstance(items, list):
        raise BadBody(f'"payloads" is not a list: send {_SHAPE}')
    return [_payload(number, item) for number, item in enumerate(items)]


def _payload(number: int, item: Any) -> Payload:
    if not isinstance(item, dict):
        raise BadBody(f'payloads[{number}] is not an object with "metadata" and "data"')
    for key, value in item.items():
        if key not in _FIELDS:
            raise BadBody(f"payloads[{number}] has a field a Payload does not have: {_name(key)}")
        if not _valid(key, value):
            hint = _FIELD_HINTS.get(key, "what a Payload holds there")
            raise BadBody(f"payloads[{number}].{key} is not valid: it must be {hint}")
    return json_format.ParseDict(item, Payload())


def _valid(key: str, value: Any) -> bool:
    """One field at a time, to say which one is wrong: the parser's own message may quote the
    value, and it skips characters that are not base64 where protobuf JSON allows none."""
    if key == "data" and not (isinstance(value, str) and _BASE64.fullmatch(value)):
        return False
    if key == "metadata" and not (
        isinstance(value, dict) and all(isinstance(v, str) and _BASE64.fullmatch(v) for v in value.values())
    ):
        return False
    try:
        json_format.ParseDict({key: value}, Payload())
    except json_format.ParseError:
        return False
    return True


def _name(key: str) -> str:
    return json.dumps(key[:40])


def render_payloads(payloads: Sequence[Payload]) -> bytes:
    # Built by hand around each payload: MessageToJson would leave out an empty list, and
    # the UI reads `payloads` from every answer.
    return json.dumps({"payloads": [json_format.MessageToDict(payload) for payload in payloads]}).encode()


def _problem(status: HTTPStatus, detail: str, **headers: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status, headers={"Cache-Control": "no-store", **headers})


def _authorized(request: Request, web: Web) -> bool:
    token = web.settings.web.web_codec_token
    if token is None:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


async def _body(request: Request) -> bytes | None:
    """The body, or None when it is longer than MAX_BODY_BYTES (read no further than that)."""
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _apply(request: Request, web: Web, operation: str) -> Response:
    if not _authorized(request, web):
        log.warning("codec request refused: no valid bearer token", operation=operation)
        return _problem(
            HTTPStatus.UNAUTHORIZED,
            "send Authorization: Bearer <the codec token> (TOUCHPOINT_WEB_CODEC_TOKEN)",
            **{"WWW-Authenticate": "Bearer"},
        )
    media_type = request.headers.get("Content-Type", "application/json").partition(";")[0].strip().lower()
    if media_type != "application/json":
        return _problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"send Content-Type: application/json with {_SHAPE}")
    body = await _body(request)
    if body is None:
        log.warning("codec request refused: body too large", operation=operation, limit_bytes=MAX_BODY_BYTES)
        return _problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        payloads = parse_payloads(body)
    except BadBody as err:
        log.warning("codec request refused: bad body", operation=operation, bytes_in=len(body))
        return _problem(HTTPStatus.BAD_REQUEST, str(err))
    apply: Callable[[Sequence[Payload]], Awaitable[list[Payload]]] = getattr(web.codec, operation)
    try:
        result = await apply(payloads)
    except Exception as err:
        # The protocol's answer to an encoder or decoder error; its message stays out of
        # the answer and the log, as it might quote what it could not read.
        log.warning("codec refused the payloads", operation=operation, payloads=len(payloads), error=type(err).__name__)
        return _problem(HTTPStatus.BAD_REQUEST, f"the codec could not {operation} the payloads ({type(err).__name__})")
    answer = render_payloads(result)
    log.debug("codec", operation=operation, payloads=len(payloads), bytes_in=len(body), bytes_out=len(answer))
    return Response(answer, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.post("/encode", include_in_schema=False)
async def encode(request: Request, web: Web) -> Response:
    return await _apply(request, web, "encode")


@router.post("/decode", include_in_schema=False)
async def decode(request: Request, web: Web) -> Response:
    return await _apply(request, web, "decode")
