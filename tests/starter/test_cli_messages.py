"""Issue 12: what `touchpoint` says to a new user about bad input, before any server is asked.

Each command runs in this process as the console script would; none of these inputs
gets as far as connecting (the settings point at a port nothing listens on).
"""

from __future__ import annotations

import pytest

from starter import cli
from workers.cli import build_parser

NOWHERE = "127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINT_TEMPORAL_ADDRESS", NOWHERE)
    monkeypatch.setenv("COLUMNS", "200")


def touchpoint(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.run(build_parser().parse_args(argv))
    except SystemExit as exit:
        code = int(exit.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_list_refuses_a_limit_below_one_naming_the_flag(capsys: pytest.CaptureFixture[str], limit: str) -> None:
    code, out, err = touchpoint(capsys, "list", "--limit", limit)

    assert (code, out) == (2, "")
    assert err == f"touchpoint: --limit must be at least 1, got {limit}\n"
