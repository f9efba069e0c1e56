"""`touchpoint console-user hash`: a hash the console accepts, and a short password refused."""

import subprocess
import sys
from pathlib import Path

from workers.console.auth import check_password
from workers.console.config import ConsoleConfig

TOUCHPOINT = Path(sys.executable).parent / "touchpoint"


def hashed(password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOUCHPOINT), "console-user", "hash"], input=password + "\n", capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_the_printed_hash_signs_the_user_in_and_nothing_else() -> None:
    done = hashed("correct horse battery")
    assert done.returncode == 0, done.stderr
    config = ConsoleConfig(users=[{"username": "sam", "password_hash": done.stdout.strip(), "role": "staff"}])
    assert check_password(config, "sam", "correct horse battery").role == "staff"
    assert check_password(config, "sam", "correct horse batter") is None
    assert check_password(config, "someone", "correct horse battery") is None


def test_a_short_password_is_refused() -> None:
    done = hashed("short")
    assert (done.returncode, done.stdout) == (2, "") and "12+ characters" in done.stderr
