"""Errors as RFC 9457 problem details (`application/problem+json`), naming the field and
what to do, never the value sent: a request body may hold an address or a phone number."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from starter.errors import (
    CommandRejected,
    InvalidInput,
    LeadClosed,
    LeadNotFound,
    NoAnswer,
    TemporalUnavailable,
    TouchpointError,
)
from workflows.errors import without_value

MEDIA_TYPE = "application/problem+json"
TYPES = "https://touchpoint.dev/problems/"


class FieldProblem(BaseModel):
    field: str = Field(description="Where in the request, e.g. lead.email or query.limit")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] = Field(default_factory=list)


class ApiProblem(Exception):
    def __init__(self, status: int, kind: str, title: str, detail: str, *, headers: dict[str, str] | None = None):
        self.problem = Problem(type=TYPES + kind, title=title, status=status, detail=detail)
        self.headers = headers or {}


def respond(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem.model_dump(), status_code=problem.status, media_type=MEDIA_TYPE, headers=headers)


# The client's errors, by what the caller can do about them.
_STATUS: list[tuple[type[TouchpointError], int, str, str]] = [
    (LeadNotFound, 404, "lead-not-found", "No such lead"),
    (LeadClosed, 409, "lead-closed", "The lead is closed"),
    (CommandRejected, 409, "command-rejected", "The lead refused the command"),
    (InvalidInput, 422, "invalid-input", "The request is not valid"),
    (TemporalUnavailable, 503, "temporal-unavailable", "Temporal is unreachable"),
    (NoAnswer, 504, "no-answer", "No worker answered in time"),
]


def from_touchpoint(error: TouchpointError) -> Problem:
    for kind, status, name, title in _STATUS:
        if isinstance(error, kind):
            detail = error.reason if isinstance(error, CommandRejected) else str(error)
            return Problem(type=TYPES + name, title=title, status=status, detail=detail)
    return Problem(type=TYPES + "lead-error", title="The request failed", status=400, detail=str(error))


def from_validation(error: RequestValidationError) -> Problem:
    problems = []
    for detail in error.errors():
        location = [str(part) for part in detail.get("loc", ())]
        if location[:1] == ["body"]:
            location = location[1:]
        message = without_value(str(detail.get("msg", "")).removeprefix("Value error, "), detail.get("input"))
        problems.append(FieldProblem(field=".".join(location) or "body", message=message))
    summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
    return Problem(
        type=TYPES + "invalid-request", title="The request is not valid", status=422, detail=summary, errors=problems
    )


def install(app: Any) -> None:
    """Every error of the API answered as a problem."""

    async def on_api_problem(_request: Request, error: ApiProblem) -> JSONResponse:
        return respond(error.problem, error.headers)

    async def on_touchpoint(_request: Request, error: TouchpointError) -> JSONResponse:
        return respond(from_touchpoint(error))

    async def on_validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        return respond(from_validation(error))

    async def on_http(_request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 400 and error.detail == "There was an error parsing the body":
            # FastAPI's words for a body json cannot read (e.g. nested beyond any parser's depth).
            detail = "the body is not readable JSON (malformed, or nested too deeply): send one JSON object"
            invalid = Problem(
                type=TYPES + "invalid-request", title="The request is not valid", status=422, detail=detail
            )
            return respond(invalid)
        problem = Problem(
            type=TYPES + "http", title=str(error.detail), status=error.status_code, detail=str(error.detail)
        )
        return respond(problem, dict(error.headers or {}))

    app.add_exception_handler(ApiProblem, on_api_problem)
    app.add_exception_handler(TouchpointError, on_touchpoint)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
