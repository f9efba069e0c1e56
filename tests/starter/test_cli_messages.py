"""Issue 12: what `touchpoint` says to a new user about bad input, before any server is asked.

Each command runs in this process as the console script would; none of these inputs
gets as far as connecting (the settings point at a port nothing listens on).
"""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from starter import cli
from starter.client import LeadSummary
from starter.render import leads_table, state_view
from workers.cli import PROCESSES, build_parser
from workflows.models import LeadState

NOWHERE = "127.0.0.1:9"
PROCESS_COMMANDS = list(PROCESSES)
LEAD_COMMANDS = ["enroll", "reply", "trigger", "snooze", "pause", "resume", "move", "close", "complete-task",
                 "state", "list", "setup", "schema"]  # fmt: skip


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


def test_enroll_from_flags_without_mode_says_the_flag_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = touchpoint(capsys, "enroll", "--id", "crm-0100", "--email", "sam@example.com")
    _, help_text, _ = touchpoint(capsys, "enroll", "--help")

    assert (code, out) == (2, "")
    assert err == "touchpoint: --mode: Field required\n"
    assert "None" not in err
    assert re.search(r"--mode \{follow_up,nurture\}\s+required with the lead flags", help_text)
    assert re.search(r"--email EMAIL\s+required with the lead flags", help_text)


@pytest.mark.parametrize("command", [*PROCESS_COMMANDS, *LEAD_COMMANDS])
def test_every_command_has_a_help_description(capsys: pytest.CaptureFixture[str], command: str) -> None:
    _, help_text, _ = touchpoint(capsys, command, "--help")

    # argparse prints the description as the paragraph after the usage lines.
    description = help_text.split("\n\n")[1]
    assert description.strip() and not description.startswith(("positional", "options"))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["snooze", "crm-0100", "--until", "2027-13-01"], "--until: .* \\(write YYYY-MM-DD, e.g. 2027-03-01\\)"),
        (["snooze", "crm-0100", "--until", "01/03/2027"], "--until: .* \\(write YYYY-MM-DD, e.g. 2027-03-01\\)"),
        (
            ["pause", "crm-0100", "--reason", "holiday", "--until", "tomorrow"],
            "--until: .* \\(write YYYY-MM-DD or YYYY-MM-DDTHH:MM, e.g. 2027-03-01\\)",
        ),
    ],
)
def test_a_bad_date_says_how_to_write_one(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    code, _, err = touchpoint(capsys, *argv)

    assert code == 2
    assert re.fullmatch(f"touchpoint: {expected}\n", err), err


def render(renderable: object) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_the_state_view_shows_rejected_events() -> None:
    state = LeadState.model_validate(
        {
            "lead_id": "crm-0100",
            "mode": "nurture",
            "rejected_events": [
                {"signal": "reply", "event_id": "msg-1", "error": "channel: Input should be 'email' or 'sms'",
                 "at": "2026-12-01T10:00:00Z"},
            ],
        }
    )  # fmt: skip

    shown = render(state_view(state))

    assert "rejected events" in shown
    assert re.search(r"reply\s+.*msg-1\s+.*channel: Input should be 'email' or 'sms'\s+.*2026-12-01 10:00:00 UTC", shown)


def test_closed_leads_are_listed_with_their_outcome() -> None:
    lead = LeadSummary(
        lead_id="crm-0100", mode="closed", next_touch_at=None, step=None, owner="rep-7", segment=None, outcome="won"
    )

    closed = render(leads_table([lead], closed=True))
    running = render(leads_table([lead]))

    assert re.search(r"outcome", closed) and re.search(r"crm-0100 .* won", closed)
    assert "outcome" not in running
