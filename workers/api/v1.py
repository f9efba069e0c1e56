"""The /v1 HTTP API, a FastAPI sub-application mounted by `touchpoint web`.

Every route goes through TouchpointClient, so it validates, deduplicates and answers
exactly as the Python client and the CLI do. A request carries `Authorization: Bearer
tpk_…` (see activities/stores/api_keys.py) with the route's scope: `read` for state and
lists, `write` for enrolling and commands, `events` for machine events. POSTs honour an
`Idempotency-Key` header: the same key with the same request within 24 hours gets the
first answer again (`Idempotent-Replayed: true`), with another request a 422.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from activities.stores.api_keys import IDEMPOTENCY_KEY_MAX, ApiKey, ApiKeyStore, KeyRefused, Scope, request_digest
from starter.client import EnrollFailure, EnrollResult, TouchpointClient
from starter.errors import TouchpointError
from workers.api import problems
from workers.api.limits import RateLimiter
from workers.api.problems import ApiProblem, Problem
from workflows.errors import enrollment
from workflows.models import (
    CloseInput,
    CompleteTaskInput,
    DeliveryEvent,
    EngagementEvent,
    EnrollLead,
    LeadState,
    Mode,
    MoveInput,
    PauseInput,
    ReplyEvent,
    ResumeInput,
    SnoozeInput,
    TriggerEvent,
)

MAX_BULK = 1000
LEAD_ID = Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="The lead's id (not its workflow id)")
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {problems.MEDIA_TYPE: {}}, "description": text}
    for status, text in [
        (401, "No API key, or not one Touchpoint knows"),
        (403, "The key lacks the route's scope"),
        (404, "No such lead"),
        (409, "The lead refused the command, or is closed"),
        (422, "The request is not valid: `errors` names each field"),
        (429, "Too many requests for this key: see Retry-After"),
        (503, "Temporal is unreachable"),
    ]
}

GetClient = Callable[[], Awaitable[TouchpointClient]]


class Enrolled(BaseModel):
    lead_id: str
    workflow_id: str
    created: bool = Field(description="False: the lead was enrolled already (it is never restarted)")
    closed_outcome: str | None = Field(default=None, description="Set when that earlier enrollment is closed")


class BulkEnroll(BaseModel):
    leads: list[Any] = Field(max_length=MAX_BULK, description=f"EnrollLead objects, at most {MAX_BULK}")


class BulkItem(BaseModel):
    index: int
    lead_id: str | None = None
    status: Literal["enrolled", "already_enrolled", "invalid", "failed"]
    closed_outcome: str | None = None
    error: str | None = None


class BulkEnrolled(BaseModel):
    enrolled: int
    already_enrolled: int
    invalid: int
    failed: int
    results: list[BulkItem]


class LeadRow(BaseModel):
    lead_id: str
    mode: str | None
    next_touch_at: datetime | None
    step: str | None
    owner: str | None
    segment: str | None
    outcome: str | None = None


class LeadList(BaseModel):
    leads: list[LeadRow]


class Accepted(BaseModel):
    accepted: bool = True
    lead_id: str
    event_id: str


def create_api(get_client: GetClient, keys: ApiKeyStore, *, rate_per_minute: int = 600) -> FastAPI:
    api = FastAPI(
        title="Touchpoint API",
        version="1",
        description=__doc__,
        responses=ERRORS,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    problems.install(api)
    limiter = RateLimiter(rate_per_minute)

    def caller(scope: Scope) -> Callable[..., Awaitable[ApiKey]]:
        async def authorised(authorization: Annotated[str | None, Header()] = None) -> ApiKey:
            scheme, _, token = (authorization or "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise ApiProblem(
                    401,
                    "unauthorised",
                    "An API key is required",
                    "send Authorization: Bearer tpk_…; create a key with `touchpoint api-key create`",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            try:
                key = await run_in_threadpool(keys.authenticate, token.strip())
            except KeyRefused as refused:
                raise ApiProblem(
                    401, "unauthorised", "The API key is refused", str(refused), headers={"WWW-Authenticate": "Bearer"}
                ) from None
            if scope not in key.scopes:
                raise ApiProblem(
                    403,
                    "forbidden",
                    "The key lacks this scope",
                    f"this route needs scope {scope!r}; key {key.key_id} has {', '.join(sorted(key.scopes))}",
                )
            wait = limiter.take(key.key_id)
            if wait is not None:
                raise ApiProblem(
                    429,
                    "rate-limited",
                    "Too many requests",
                    f"key {key.key_id} may make {limiter.capacity:g} requests a minute; retry in {wait:g} s",
                    headers={"Retry-After": str(int(wait))},
                )
            return key

        return authorised

    Reader = Annotated[ApiKey, Depends(caller("read"))]
    Writer = Annotated[ApiKey, Depends(caller("write"))]
    Events = Annotated[ApiKey, Depends(caller("events"))]
    IdempotencyKey = Annotated[
        str | None,
        Header(max_length=IDEMPOTENCY_KEY_MAX, description="Retry-safe POSTs: the same key gets the first answer"),
    ]

    async def idempotent(
        request: Request, key: ApiKey, idempotency_key: str | None, answer: Callable[[], Awaitable[JSONResponse]]
    ) -> Response:
        if idempotency_key is None:
            return await _answered(answer)
        digest = request_digest(request.method, request.url.path, await request.body())
        earlier = await run_in_threadpool(keys.claim, key.key_id, idempotency_key, digest)
        if earlier is not None:
            if earlier.request_sha256 != digest:
                raise ApiProblem(
                    422,
                    "idempotency-key-reused",
                    "Idempotency-Key reused",
                    "this Idempotency-Key came with another request: use a new key for a new request",
                )
            if earlier.status_code is None:
                raise ApiProblem(
                    409,
                    "idempotency-key-in-use",
                    "The first request is still running",
                    "a request with this Idempotency-Key is being answered: retry in a moment",
                )
            return Response(
                earlier.body,
                status_code=earlier.status_code,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            response = await _answered(answer)
        except BaseException:
            await run_in_threadpool(keys.forget, key.key_id, idempotency_key)
            raise
        if response.status_code >= 500:
            await run_in_threadpool(keys.forget, key.key_id, idempotency_key)
        else:
            await run_in_threadpool(
                keys.remember, key.key_id, idempotency_key, response.status_code, bytes(response.body)
            )
        return response

    # ------------------------------------------------------------------ enroll

    @api.post("/leads", response_model=Enrolled, status_code=201, summary="Enroll one lead")
    async def enroll(
        request: Request, body: EnrollLead, key: Writer, idempotency_key: IdempotencyKey = None
    ) -> Response:
        async def answer() -> JSONResponse:
            result = await (await get_client()).enroll(body)
            return JSONResponse(_enrolled(result).model_dump(), status_code=201 if result.created else 200)

        return await idempotent(request, key, idempotency_key, answer)

    @api.post("/leads/bulk", response_model=BulkEnrolled, summary="Enroll many leads; each item answered alone")
    async def enroll_bulk(
        request: Request, body: BulkEnroll, key: Writer, idempotency_key: IdempotencyKey = None
    ) -> Response:
        async def answer() -> JSONResponse:
            return JSONResponse((await _bulk(await get_client(), body.leads)).model_dump())

        return await idempotent(request, key, idempotency_key, answer)

    # ------------------------------------------------------------------- reads

    @api.get("/leads/{lead_id}", response_model=LeadState, summary="A lead's state")
    async def state(key: Reader, lead_id: str = LEAD_ID) -> Any:
        return (await (await get_client()).state(lead_id)).model_dump(mode="json")

    @api.get("/leads", response_model=LeadList, summary="Leads from Temporal visibility")
    async def list_leads(
        key: Reader,
        mode: Mode | None = None,
        owner: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = None,
        segment: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Any:
        rows = await (await get_client()).list(mode=mode, owner=owner, segment=segment, limit=limit)
        return LeadList(leads=[LeadRow(**asdict(row)) for row in rows]).model_dump(mode="json")

    # ------------------------------------------------------------------ events

    def event_route(kind: str, model: type[BaseModel]) -> None:
        async def route(
            request: Request,
            body: model,
            key: Events,
            idempotency_key: IdempotencyKey = None,
            lead_id: str = LEAD_ID,  # type: ignore[valid-type]
        ) -> Response:
            async def answer() -> JSONResponse:
                await getattr(await get_client(), kind)(lead_id, body)
                return JSONResponse(Accepted(lead_id=lead_id, event_id=body.event_id).model_dump(), status_code=202)

            return await idempotent(request, key, idempotency_key, answer)

        api.post(
            f"/leads/{{lead_id}}/events/{kind}",
            response_model=Accepted,
            status_code=202,
            summary=f"Send a {kind} event (deduplicated by event_id)",
            name=f"event_{kind}",
        )(route)

    for kind, model in [
        ("reply", ReplyEvent),
        ("engagement", EngagementEvent),
        ("delivery", DeliveryEvent),
        ("trigger", TriggerEvent),
    ]:
        event_route(kind, model)

    # ---------------------------------------------------------------- commands

    # Each command's route is named after the TouchpointClient method it calls.
    def command_route(name: str, model: type[BaseModel]) -> None:
        async def route(
            request: Request,
            body: model,
            key: Writer,
            idempotency_key: IdempotencyKey = None,
            lead_id: str = LEAD_ID,  # type: ignore[valid-type]
        ) -> Response:
            async def answer() -> JSONResponse:
                state = await getattr(await get_client(), name)(lead_id, body)
                return JSONResponse(state.model_dump(mode="json"))

            return await idempotent(request, key, idempotency_key, answer)

        api.post(
            f"/leads/{{lead_id}}/commands/{name}",
            response_model=LeadState,
            summary=f"{name}: the new state, or 409 with the reason",
            name=f"command_{name}",
        )(route)

    for name, model in [
        ("snooze", SnoozeInput),
        ("pause", PauseInput),
        ("resume", ResumeInput),
        ("move", MoveInput),
        ("close", CloseInput),
        ("complete_task", CompleteTaskInput),
    ]:
        command_route(name, model)

    return api


async def _answered(answer: Callable[[], Awaitable[JSONResponse]]) -> JSONResponse:
    """The route's answer, or its TouchpointError as a problem (kept for idempotent replays)."""
    try:
        return await answer()
    except TouchpointError as error:
        problem = problems.from_touchpoint(error)
        return JSONResponse(problem.model_dump(), status_code=problem.status, media_type=problems.MEDIA_TYPE)


def _enrolled(result: EnrollResult) -> Enrolled:
    return Enrolled(
        lead_id=result.lead_id,
        workflow_id=result.workflow_id,
        created=result.created,
        closed_outcome=result.closed_outcome,
    )


async def _bulk(touchpoint: TouchpointClient, items: list[Any]) -> BulkEnrolled:
    results: list[BulkItem | None] = [None] * len(items)
    valid: list[tuple[int, EnrollLead]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        enroll, problem = enrollment((item,), continued=False)
        if enroll is None:
            results[index] = BulkItem(index=index, status="invalid", error=problem)
        elif enroll.lead.id in seen:
            results[index] = BulkItem(
                index=index,
                lead_id=enroll.lead.id,
                status="invalid",
                error=f"duplicate lead id (first at index {seen[enroll.lead.id]})",
            )
        else:
            seen[enroll.lead.id] = index
            valid.append((index, enroll))
    outcomes = await touchpoint.enroll_many([enroll for _, enroll in valid])
    for (index, enroll), outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, EnrollFailure):
            results[index] = BulkItem(index=index, lead_id=enroll.lead.id, status="failed", error=str(outcome.error))
        else:
            status = "enrolled" if outcome.created else "already_enrolled"
            results[index] = BulkItem(
                index=index, lead_id=outcome.lead_id, status=status, closed_outcome=outcome.closed_outcome
            )
    done = [r for r in results if r is not None]
    count = {s: sum(1 for r in done if r.status == s) for s in ("enrolled", "already_enrolled", "invalid", "failed")}
    return BulkEnrolled(**count, results=done)


def openapi_document(api: FastAPI) -> str:
    """The document deploy/openapi/v1.json publishes (a test keeps them equal)."""
    return json.dumps(api.openapi(), indent=2, sort_keys=True) + "\n"
