"""What a fault run must show afterwards, counted from what left the system.

Pure functions over the outbox's send keys, the rep tasks written and each lead's
`state`: no Temporal here, so the checks themselves are unit-tested on made-up data.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

from workflows import names
from workflows.models import LeadState, Mode

SEND_KEY_HEADER = "X-Touchpoint-Send-Key"


@dataclass(frozen=True, kw_only=True)
class FaultCounts:
    leads: int
    emails: int
    # Touches a lead's state records with no .eml on disk, plus follow-up touches a
    # lead that never replied is missing.
    lost_touches: int
    # .eml files beyond the first for one send key, one lead+step, or one lead+sequence number.
    duplicate_touches: int
    # .eml files no lead's state knows about: sent, yet not recorded (the next step
    # could send it again under another key).
    unrecorded_emails: int
    # Leads not in the mode their events imply (replied: awaiting_rep; others: nurture).
    wrong_modes: int
    # A reply acted on more than once: a second move to awaiting_rep or a second rep task.
    repeated_event_effects: int

    @property
    def failures(self) -> int:
        return (
            self.lost_touches
            + self.duplicate_touches
            + self.unrecorded_emails
            + self.wrong_modes
            + self.repeated_event_effects
        )

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class SentEmail:
    file: str
    send_key: str

    @property
    def _parts(self) -> names.SendKey:
        parts = names.parse_send_key(self.send_key)
        assert parts is not None, f"not a send key: {self.send_key!r}"
        return parts

    @property
    def lead_id(self) -> str:
        return self._parts.lead_id

    @property
    def sequence(self) -> str:
        return f"{self._parts.seq:05d}"

    @property
    def step(self) -> str:
        return self._parts.step


def read_outbox(outbox: Path) -> list[SentEmail]:
    """Every .eml file with the send key from its header (not its file name)."""
    emails = []
    for path in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
        with path.open("rb") as file:
            emails.append(SentEmail(file=path.name, send_key=str(BytesHeaderParser().parse(file)[SEND_KEY_HEADER])))
    return emails


def read_reply_tasks(tasks_file: Path) -> Counter[str]:
    """Reply tasks per lead id, from the rep-task sink's JSON lines."""
    tasks: Counter[str] = Counter()
    if tasks_file.exists():
        for line in tasks_file.read_text(encoding="utf-8").splitlines():
            if line.strip() and (task := json.loads(line)).get("kind") == "reply":
                tasks[task["lead_id"]] += 1
    return tasks


def count_faults(
    *,
    states: dict[str, LeadState],
    emails: list[SentEmail],
    reply_tasks: Counter[str],
    replied: set[str],
    follow_up_steps: list[str],
) -> FaultCounts:
    """Count every lost, duplicated or unrecorded touch and every wrong mode.

    A lead goes through follow-up once in a fault run, and the run ends long before a
    nurture step could come round again, so one lead never sends one step twice.
    """
    duplicates = _extra(Counter(e.send_key for e in emails))
    duplicates = max(duplicates, _extra(Counter((e.lead_id, e.step) for e in emails)))
    duplicates = max(duplicates, _extra(Counter((e.lead_id, e.sequence) for e in emails)))

    on_disk = {e.send_key for e in emails}
    recorded = {t.send_key for state in states.values() for t in state.touches}
    lost = sum(1 for key in recorded if key not in on_disk)
    for lead_id, state in states.items():
        if lead_id not in replied:
            sent_steps = {t.step for t in state.touches}
            lost += sum(1 for step in follow_up_steps if step not in sent_steps)
    unrecorded = sum(1 for key in on_disk if key not in recorded)

    wrong_modes = 0
    repeated = 0
    for lead_id, state in states.items():
        expected = Mode.AWAITING_REP if lead_id in replied else Mode.NURTURE
        wrong_modes += int(state.mode != expected)
        moves = sum(1 for t in state.transitions if t.to_mode == Mode.AWAITING_REP)
        repeated += max(0, moves - 1) + max(0, reply_tasks[lead_id] - 1)

    return FaultCounts(
        leads=len(states),
        emails=len(emails),
        lost_touches=lost,
        duplicate_touches=duplicates,
        unrecorded_emails=unrecorded,
        wrong_modes=wrong_modes,
        repeated_event_effects=repeated,
    )


def _extra(counts: Counter[object]) -> int:
    return sum(n - 1 for n in counts.values() if n > 1)
