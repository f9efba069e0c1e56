"""What happened to one bad input at one entry point, and the table of counts.

clear   the caller got an error naming what is wrong (the field), echoing none of the values
unclear an error, but it does not name the field or it echoes a value sent
crash   a traceback, an exception escaping, a process or server error (5xx)
stuck   a lead left in a workflow-task retry loop, or a run that never ended
lost    a valid input sent with (or after) the bad one had no effect
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parents[1] / "fixtures" / "bad_inputs"
OUTCOMES = ("clear", "unclear", "crash", "stuck", "lost")


def cases(name: str) -> list[dict[str, Any]]:
    return json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Verdict:
    entry: str
    case: str
    outcome: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.entry} / {self.case}: {self.outcome} {self.detail[:300]}".rstrip()


def strings_in(value: Any) -> list[str]:
    """The text values a case sends (5+ characters): none may come back in an error."""
    if isinstance(value, str):
        return [value] if len(value) >= 5 else []
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


# Values the contract itself spells (a mode, a cadence id): naming them leaks nothing.
CONTRACT_WORDS = {"nurture", "follow_up", "follow-up"}


def judged(entry: str, case: str, message: str, *, names: str, sent: Any) -> Verdict:
    """clear when `message` names `names` and echoes no value of `sent`."""
    if "Traceback" in message:
        return Verdict(entry, case, "crash", message)
    leaked = [v for v in strings_in(sent) if v in message and v not in CONTRACT_WORDS]
    if leaked:
        return Verdict(entry, case, "unclear", f"echoes {leaked[0][:40]!r}: {message}")
    if names not in message:
        return Verdict(entry, case, "unclear", f"does not name {names!r}: {message}")
    return Verdict(entry, case, "clear", message)


def table(verdicts: list[Verdict]) -> str:
    counts: dict[str, Counter[str]] = {}
    for verdict in verdicts:
        counts.setdefault(verdict.entry, Counter())[verdict.outcome] += 1
    width = max([len("entry point"), *map(len, counts)])
    lines = [f"{'entry point':<{width}}  tried  " + "  ".join(f"{o:>7}" for o in OUTCOMES)]
    for entry, counted in [*counts.items(), ("total", sum(counts.values(), Counter()))]:
        lines.append(
            f"{entry:<{width}}  {sum(counted.values()):>5}  " + "  ".join(f"{counted[o]:>7}" for o in OUTCOMES)
        )
    return "\n".join(lines)
