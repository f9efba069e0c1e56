"""Erasing a lead (GDPR Art. 17) and exporting what is held about it (Art. 15), outside Temporal.

`touchpoint erase` (starter/privacy_commands.py) first closes the lead's workflow with the
`erase` update, reads its email and phone from its history, then calls `erase_held_data`:

1. the salted hashes of the email and phone go into the suppression table, so the person
   is never enrolled (TouchpointClient) or mailed (the send activities) again;
2. the send ledger forgets every row of the lead (sends, opt-out, recipient hashes);
3. the local outbox files lose the lead's emails, texts and rep tasks;
4. the lead's data key is destroyed: every payload of its history, in every run, open or
   closed, exported or archived, is unreadable from then on (crypto-shredding);
5. an audit record says who erased which lead id, and when (nothing else of the lead).

`held_data` gathers the same stores for `touchpoint export`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from activities.privacy.codec import DataKeys, lead_key_id
from activities.privacy.store import PrivacyStore
from activities.stores.ledger import SendLedger
from workflows.models import Lead

SEND_KEY_HEADER = "X-Touchpoint-Send-Key"


class ErasedPeople:
    """Whether a lead's email or phone belongs to someone erased: hashes only, never the values."""

    def __init__(self, store: PrivacyStore) -> None:
        self._store = store

    def is_erased(self, lead: Lead) -> bool:
        if self._store.is_suppressed("email", lead.email):
            return True
        return bool(lead.phone) and self._store.is_suppressed("phone", str(lead.phone))


@dataclass(frozen=True)
class LocalFiles:
    """The local delivery files (activities/delivery/config.py): emails, texts, rep tasks."""

    outbox_dir: Path
    sms_outbox_file: Path
    tasks_file: Path

    def emails(self, lead_id: str) -> list[Path]:
        """The lead's .eml files: named after the send key, confirmed by its header."""
        if not self.outbox_dir.is_dir():
            return []
        found = []
        for path in sorted(self.outbox_dir.glob(f"{lead_id}_*.eml")):
            with path.open("rb") as file:
                send_key = BytesHeaderParser().parse(file).get(SEND_KEY_HEADER, "")
            if send_key.startswith(f"{lead_id}:"):
                found.append(path)
        return found

    def records(self, path: Path, lead_id: str) -> list[dict[str, Any]]:
        return [record for record in _read_lines(path) if record.get("lead_id") == lead_id]

    def held(self, lead_id: str) -> dict[str, Any]:
        return {
            "emails": [{"file": p.name, "message": p.read_text(encoding="utf-8")} for p in self.emails(lead_id)],
            "texts": self.records(self.sms_outbox_file, lead_id),
            "rep_tasks": self.records(self.tasks_file, lead_id),
        }

    def forget(self, lead_id: str) -> int:
        emails = self.emails(lead_id)
        for path in emails:
            path.unlink(missing_ok=True)
        return len(emails) + _drop_lines(self.sms_outbox_file, lead_id) + _drop_lines(self.tasks_file, lead_id)


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def _drop_lines(path: Path, lead_id: str) -> int:
    """Rewrite the JSON-lines file without the lead's records (a new file, renamed over)."""
    records = _read_lines(path)
    kept = [record for record in records if record.get("lead_id") != lead_id]
    if len(kept) == len(records):
        return 0
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with open(descriptor, "w", encoding="utf-8") as file:
        file.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in kept)
        file.flush()
        os.fsync(file.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return len(records) - len(kept)


@dataclass(frozen=True)
class ErasureReport:
    lead_id: str
    key_destroyed: bool
    ledger_rows: int
    local_records: int
    suppressed: tuple[str, ...]  # "email", "phone"


def erase_held_data(
    *,
    lead_id: str,
    email: str | None,
    phone: str | None,
    keys: DataKeys,
    ledger: SendLedger,
    files: LocalFiles,
    actor: str,
    now: datetime,
) -> ErasureReport:
    """Steps 1-5 of the module docstring; each is idempotent, so a failed erase is run again."""
    store = keys.store
    suppressed = []
    for kind, value in (("email", email), ("phone", phone)):
        if value:
            store.suppress(kind, value, now=now)
            suppressed.append(kind)
    ledger_rows = ledger.forget_lead(lead_id)
    local_records = files.forget(lead_id)
    key_id = lead_key_id(lead_id)
    destroyed = store.destroy_data_key(key_id, now=now)
    keys.forget(key_id)
    store.audit("erase", lead_id, actor=actor, now=now)
    return ErasureReport(lead_id, destroyed, ledger_rows, local_records, tuple(suppressed))


def held_data(*, lead_id: str, keys: DataKeys, ledger: SendLedger, files: LocalFiles) -> dict[str, Any]:
    """What the stores outside Temporal hold about the lead, as JSON-ready values."""
    row = keys.store.data_key(lead_key_id(lead_id))
    return {
        "send_ledger": ledger.lead_rows(lead_id),
        "local_files": files.held(lead_id),
        "data_key": None
        if row is None
        else {
            "id": row.key_id,
            "created_at": row.created_at.isoformat(),
            "wrapped_by": row.wrapped.wrapped_by if row.wrapped else None,
            "erased_at": row.erased_at.isoformat() if row.erased_at else None,
        },
        "audit": [
            {"action": record.action, "actor": record.actor, "at": record.at.isoformat()}
            for record in keys.store.audit_records(lead_id)
        ],
    }
