"""Made-up leads for the bench and the fault run: full records, so templates render real text."""

from __future__ import annotations

import csv
from pathlib import Path

from workflows.models import EnrollLead

FIRST_NAMES = ("Dana", "Li", "Amara", "Jonas", "Priya", "Mateo", "Sofia", "Kenji")
LAST_NAMES = ("Reyes", "Wei", "Okafor", "Berg", "Nair", "Alvarez", "Rossi", "Tanaka")
COMPANIES = ("Acme Freight", "Northwind Clinics", "Brightpath Legal", "Fjord Outdoor")
ZONES = ("America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin")
SEGMENTS = ("logistics", "healthcare", "legal", "retail")
CHALLENGES = ("manual dispatch", "no-shows on Mondays", "intake forms lost in email", "stock planning")

CSV_COLUMNS = (
    "id", "email", "first_name", "last_name", "company", "timezone", "owner", "segment", "mode",
    "attr.challenge", "context.trigger", "context.discovery_notes",
)  # fmt: skip


def lead_row(lead_id: str, index: int, *, mode: str = "follow_up") -> dict[str, str]:
    """One lead as the CSV importer reads it; `enroll_input` validates the same fields."""
    pick = index % len(FIRST_NAMES)
    first, last = FIRST_NAMES[pick], LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
    company = COMPANIES[index % len(COMPANIES)]
    return {
        "id": lead_id,
        "email": f"{first.lower()}.{last.lower()}.{index}@{company.split()[0].lower()}.example",
        "first_name": first,
        "last_name": last,
        "company": company,
        "timezone": ZONES[index % len(ZONES)],
        "owner": f"rep-{index % 7}",
        "segment": SEGMENTS[index % len(SEGMENTS)],
        "mode": mode,
        "attr.challenge": CHALLENGES[index % len(CHALLENGES)],
        "context.trigger": "proposal_sent",
        "context.discovery_notes": "dispatch takes 3 people every morning",
    }


def enroll_input(lead_id: str, index: int, *, speedup: float, mode: str = "follow_up") -> EnrollLead:
    row = lead_row(lead_id, index, mode=mode)
    lead = {
        key: row[key]
        for key in ("id", "email", "first_name", "last_name", "company", "timezone", "owner", "segment")
    }
    return EnrollLead.model_validate(
        {
            "lead": lead | {"attributes": {"challenge": row["attr.challenge"]}},
            "mode": mode,
            "context": {"trigger": row["context.trigger"], "discovery_notes": row["context.discovery_notes"]},
            "speedup": speedup,
        }
    )


def write_csv(path: Path, lead_ids: list[str], *, mode: str = "follow_up") -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for index, lead_id in enumerate(lead_ids):
            writer.writerow(lead_row(lead_id, index, mode=mode))
