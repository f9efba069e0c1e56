"""Health: `/healthz` (the process answers; nothing else is asked) and `/readyz` (Temporal
and the stores reachable: the send ledger and the SQL database), for an orchestrator's
liveness and readiness probes. Neither needs a token, and neither says more than which
dependency is not ready and the kind of error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from http import HTTPStatus

import sqlalchemy as sa
import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from activities.stores.database import engine
from workers.web.context import Web, WebContext

# Below a probe's usual 1-5 s timeout budget per check; the checks run together.
CHECK_TIMEOUT_SECONDS = 3.0
# A lead id that can never be a real one (lead ids have no spaces): reading its opt-out
# is a real read of the ledger that finds nothing.
_PROBE_LEAD_ID = "readiness probe"

log = structlog.get_logger(__name__)
router = APIRouter()


async def _temporal(web: WebContext) -> None:
    client = await web.temporal.client()
    if not await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS)):
        raise ConnectionError("the workflow service is not serving")


async def _ledger(web: WebContext) -> None:
    await asyncio.to_thread(web.ledger.opt_out, _PROBE_LEAD_ID)


def _select_one(url: str) -> None:
    with engine(url).connect() as connection:
        connection.execute(sa.select(sa.literal(1)))


async def _database(web: WebContext) -> None:
    await asyncio.to_thread(_select_one, web.database_url)


CHECKS: dict[str, Callable[[WebContext], Awaitable[None]]] = {
    "temporal": _temporal,
    "ledger": _ledger,
    "database": _database,
}


async def _check(name: str, web: WebContext) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await CHECKS[name](web)
    except Exception as err:
        # The type only: messages of drivers and clients may carry addresses and URLs.
        log.warning("not ready", dependency=name, error=type(err).__name__)
        return f"unreachable ({type(err).__name__})"
    return "ok"


@router.get("/healthz", include_in_schema=False)
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@router.get("/readyz", include_in_schema=False)
async def readyz(web: Web) -> JSONResponse:
    results = await asyncio.gather(*(_check(name, web) for name in CHECKS))
    checks = dict(zip(CHECKS, results, strict=True))
    not_ready = [name for name, result in checks.items() if result != "ok"]
    status = HTTPStatus.SERVICE_UNAVAILABLE if not_ready else HTTPStatus.OK
    body = {"status": "not ready" if not_ready else "ready", "not_ready": not_ready, "checks": checks}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
