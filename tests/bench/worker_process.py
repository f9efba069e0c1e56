"""A worker running as a process of its own, as in production: started, killed, restarted.

Either `python -m workers` itself (the fault run) or `tests.bench.bench_worker`, which
also answers memory probes. Each runs in its own session, so a stop or a SIGKILL
reaches the whole process group, and its log goes to a file (a pipe nobody reads
would fill up and stall the worker).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import psutil

# The repository root: `python -m tests.bench.bench_worker` imports from there.
ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
PROBE_TIMEOUT = 60.0
# What `python -m workers` logs (JSON) once it polls its task queue.
STARTED_EVENT = '"event": "worker started"'
ERROR_LEVEL = '"level": "error"'


class WorkerProcess:
    def __init__(self, argv: list[str], *, env: dict[str, str], log_file: Path) -> None:
        self.argv = argv
        self.env = env
        self.log_file = log_file
        # The bench worker speaks on stdin/stdout; `python -m workers` only logs.
        self._controlled = "tests.bench.bench_worker" in argv
        self._process: asyncio.subprocess.Process | None = None

    @classmethod
    def touchpoint(cls, *, env: dict[str, str], log_file: Path) -> WorkerProcess:
        """`python -m workers`, exactly as an operator runs it."""
        return cls([sys.executable, "-m", "workers"], env=env, log_file=log_file)

    @classmethod
    def bench(cls, kind: str, *, env: dict[str, str], log_file: Path) -> WorkerProcess:
        return cls([sys.executable, "-m", "tests.bench.bench_worker", kind], env=env, log_file=log_file)

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        """Start the process and return once it polls (bounded by READY_TIMEOUT)."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with self.log_file.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self.argv,
                env=self.env,
                stdin=asyncio.subprocess.PIPE if self._controlled else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE if self._controlled else log,
                stderr=log,
                cwd=ROOT,
                start_new_session=True,
            )
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                if self._controlled:
                    assert self._process.stdout is not None
                    line = await self._process.stdout.readline()
                    if line.strip() != b"ready":
                        raise RuntimeError(f"bench worker did not start ({line!r}); see {self.log_file}")
                else:
                    while STARTED_EVENT not in _read_from(self.log_file, offset):
                        if self._process.returncode is not None:
                            raise RuntimeError(f"worker exited with {self._process.returncode}; see {self.log_file}")
                        await asyncio.sleep(0.1)
        except BaseException:
            await self.kill()
            raise

    async def rss_after_gc(self) -> int:
        """The worker's resident memory in bytes, measured right after a full collection."""
        assert self._controlled and self._process is not None
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(b"gc\n")
        await self._process.stdin.drain()
        async with asyncio.timeout(PROBE_TIMEOUT):
            line = (await self._process.stdout.readline()).decode().split()
        if len(line) != 2 or line[0] != "rss":
            raise RuntimeError(f"unexpected answer to gc: {line!r}")
        return int(line[1])

    def first_error(self) -> str | None:
        """The first error the worker logged (a failing workflow task, say), if any."""
        text = _read_from(self.log_file, 0)
        for line in text.splitlines():
            if ERROR_LEVEL in line:
                return line[:2000]
        return None

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the worker so far, every thread included."""
        times = psutil.Process(self.pid).cpu_times()
        return times.user + times.system

    async def kill(self) -> None:
        """SIGKILL to the whole group: no graceful shutdown, as when a machine dies."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        _signal_group(process.pid, signal.SIGKILL)
        await asyncio.wait_for(process.wait(), timeout=STOP_TIMEOUT)

    async def stop(self) -> None:
        """Graceful stop (stdin closed or SIGTERM), SIGKILL when it takes too long."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            if self._controlled and process.stdin is not None:
                process.stdin.close()
            else:
                _signal_group(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=STOP_TIMEOUT)
            except TimeoutError:
                pass
        await self.kill()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Only called while the leader is unreaped, so `pid` is still our process group."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _read_from(path: Path, offset: int) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as file:
        file.seek(offset)
        return file.read().decode(errors="replace")
