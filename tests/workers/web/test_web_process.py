"""`touchpoint web` as an operator runs it: it starts without waiting for Temporal,
answers /healthz, stops cleanly on SIGTERM, and refuses settings it must not run with."""

import asyncio
import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.workers.test_worker_process import event_of, worker_env
from workers.process import EXIT_BAD_CONFIG

# The console script, as an operator runs it.
TOUCHPOINT_WEB = [str(Path(sys.executable).parent / "touchpoint"), "web"]


def run_web(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        TOUCHPOINT_WEB,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_it_answers_healthz_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = worker_env(
        tmp_path,
        TOUCHPOINT_WEB_PORT="0",
        TOUCHPOINT_LOG_FORMAT="json",
        # Nothing listens there: the app must start and stay live all the same.
        TOUCHPOINT_TEMPORAL_ADDRESS="127.0.0.1:9",
    )
    process = await asyncio.create_subprocess_exec(*TOUCHPOINT_WEB, env=env, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    try:
        url = None
        while url is None:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=30)
            assert line, "touchpoint web exited early"
            if event_of(line.decode()) == "web app listening":
                url = json.loads(line)["url"]
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            health = await http.get("/healthz")
            ready = await http.get("/readyz")

        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert url.startswith("http://127.0.0.1:")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 503 and ready.json()["not_ready"] == ["temporal"]
    assert process.returncode == 0
    assert [event_of(line) for line in rest.decode().splitlines()][-1] == "web app stopped"
    # uvicorn's own lines come through our JSON logging, without its terminal colour copy.
    assert "Shutting down" in rest.decode() and "color_message" not in rest.decode()


def test_beyond_loopback_without_a_codec_token_it_exits_2_naming_the_variable(tmp_path: Path) -> None:
    result = run_web(worker_env(tmp_path, TOUCHPOINT_WEB_HOST="0.0.0.0", TOUCHPOINT_WEB_PORT="0"))

    assert result.returncode == EXIT_BAD_CONFIG
    assert "TOUCHPOINT_WEB_CODEC_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use_exits_1_with_the_reason(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_web(worker_env(tmp_path, TOUCHPOINT_WEB_PORT=str(port), TOUCHPOINT_LOG_FORMAT="json"))

    assert result.returncode == 1
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr


def test_a_variable_of_the_old_unsubscribe_server_is_refused_with_its_new_name(tmp_path: Path) -> None:
    result = run_web(worker_env(tmp_path, TOUCHPOINT_UNSUBSCRIBE_PORT="9000"))

    assert result.returncode == EXIT_BAD_CONFIG
    assert "TOUCHPOINT_UNSUBSCRIBE_PORT is now TOUCHPOINT_WEB_PORT" in result.stderr
