"""The console mounted as `touchpoint web` mounts it, on a worker's leads, with two users."""

from __future__ import annotations

from fastapi import FastAPI

from starter.client import TouchpointClient
from tests.integration.helpers import RunningWorker
from workers.console.app import create_console
from workers.console.auth import hash_password
from workers.console.config import ConsoleConfig

PASSWORDS = {"sam": "correct horse battery", "vic": "viewer only please"}


def console_config(**overrides) -> ConsoleConfig:
    users = [
        {"username": "sam", "password_hash": hash_password(PASSWORDS["sam"]), "role": "staff"},
        {"username": "vic", "password_hash": hash_password(PASSWORDS["vic"]), "role": "viewer"},
    ]
    return ConsoleConfig.model_validate(
        {"users": users, "session_secret": "console-test-secret-0123456789abcdef", **overrides}
    )


def console_app(worker: RunningWorker, config: ConsoleConfig | None = None) -> FastAPI:
    touchpoint = TouchpointClient(worker.client, task_queue=worker.task_queue)

    async def get_client() -> TouchpointClient:
        return touchpoint

    app = FastAPI()
    app.mount("/console", create_console(get_client, config or console_config()))
    return app
