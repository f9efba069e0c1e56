"""`python -m workers` as an operator runs it: bad configuration exits 2 with the reason,
SIGTERM stops it cleanly."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.privacy import privacy_env
from workers.process import EXIT_BAD_CONFIG

BROKEN_CADENCE = """
id = "follow-up"
version = 1
mode = "follow_up"
title = "Deal follow-up"

[[steps]]
key = "day-1-case-study"
day = 1
template = "follow-up/case-study"
purpose = "value-add case study"
"""


def worker_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOUCHPOINT_")}
    return env | {"TOUCHPOINT_VAR_DIR": str(tmp_path / "var")} | privacy_env() | variables


def event_of(line: str) -> str | None:
    try:
        return json.loads(line).get("event")
    except json.JSONDecodeError:
        return None


def run_worker_process(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers"], env=env, capture_output=True, text=True, timeout=60
    )


def test_bad_setting_exits_2_naming_the_variable(tmp_path: Path) -> None:
    result = run_worker_process(worker_env(tmp_path, TOUCHPOINT_MAX_CACHED_WORKFLOWS="lots"))

    assert result.returncode == EXIT_BAD_CONFIG
    assert "TOUCHPOINT_MAX_CACHED_WORKFLOWS" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_without_payload_keys_refuses_to_start(tmp_path: Path) -> None:
    """Outside `make run` nothing invents a key: no key, no worker (it would write plaintext)."""
    env = worker_env(tmp_path, TOUCHPOINT_TEMPORAL_ADDRESS="127.0.0.1:9")
    del env["TOUCHPOINT_PAYLOAD_KEYS"]

    result = run_worker_process(env)

    assert result.returncode == EXIT_BAD_CONFIG
    assert "no payload keys: set TOUCHPOINT_PAYLOAD_KEYS" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "payload-keys.json").exists()


def test_invalid_cadence_exits_2_naming_file_step_and_field(tmp_path: Path) -> None:
    cadences = tmp_path / "cadences"
    cadences.mkdir()
    (cadences / "follow-up.toml").write_text(BROKEN_CADENCE)
    # Nothing listens there: reaching the connection step would be a failure of its own.
    env = worker_env(tmp_path, TOUCHPOINT_CADENCES_DIR=str(cadences), TOUCHPOINT_TEMPORAL_ADDRESS="127.0.0.1:9")

    result = run_worker_process(env)

    assert result.returncode == EXIT_BAD_CONFIG, result.stderr
    assert "follow-up.toml" in result.stderr
    assert "day-1-case-study" in result.stderr
    assert "'channel'" in result.stderr
    assert "Traceback" not in result.stderr


async def test_sigterm_stops_the_worker_cleanly(tmp_path: Path, server_address: str) -> None:
    env = worker_env(
        tmp_path,
        TOUCHPOINT_TEMPORAL_ADDRESS=server_address,
        TOUCHPOINT_TASK_QUEUE=f"sigterm-{tmp_path.name}",
        TOUCHPOINT_LOG_FORMAT="json",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        events = []
        while "worker started" not in events:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=30)
            assert line, f"worker exited early: {events}"
            events.append(event_of(line.decode()))

        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0
    assert [event_of(line) for line in rest.decode().splitlines()][-1] == "worker stopped"
