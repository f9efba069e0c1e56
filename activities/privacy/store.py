"""The privacy tables in Touchpoint's SQL store (SQLAlchemy Core on `database.METADATA`).

- `privacy_data_keys`: one row per data key id (`lead:<lead id>`, or `shared` for
  payloads written without a workflow): the key wrapped (activities/privacy/keys.py) and
  what wrapped it. Erasing a lead blanks `wrapped` and stamps `erased_at`: the key is
  gone, and the row says so, so a decode fails with "erased" rather than "unknown".
- `privacy_suppressed`: salted SHA-256 hashes of erased people's email addresses and
  phone numbers, so they are never enrolled or mailed again; nothing else of them.
- `privacy_salt`: that salt, random per installation, made on first use.
- `privacy_audit`: who erased or exported which lead id, and when.

The tables are created by `METADATA.create_all` in `PrivacyStore`'s constructor (until
they join the Alembic history).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from activities.privacy.keys import Wrapped
from activities.stores.database import METADATA

DATA_KEYS = sa.Table(
    "privacy_data_keys",
    METADATA,
    sa.Column("key_id", sa.String(80), primary_key=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=True),
    sa.Column("wrapped_by", sa.String(300), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
)
SUPPRESSED = sa.Table(
    "privacy_suppressed",
    METADATA,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
SALT = sa.Table(
    "privacy_salt",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("salt", sa.LargeBinary, nullable=False),
)
AUDIT = sa.Table(
    "privacy_audit",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("lead_id", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
_TABLES = [DATA_KEYS, SUPPRESSED, SALT, AUDIT]


@dataclass(frozen=True)
class DataKeyRow:
    key_id: str
    wrapped: Wrapped | None
    created_at: datetime
    erased_at: datetime | None


@dataclass(frozen=True)
class AuditRecord:
    action: str
    lead_id: str
    actor: str
    at: datetime


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time we write is UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


class PrivacyStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        METADATA.create_all(engine, tables=_TABLES)

    # ------------------------------------------------------------- data keys

    def data_key(self, key_id: str) -> DataKeyRow | None:
        with self._engine.connect() as db:
            row = db.execute(sa.select(DATA_KEYS).where(DATA_KEYS.c.key_id == key_id)).one_or_none()
        return _data_key(row) if row is not None else None

    def add_data_key(self, key_id: str, wrapped: Wrapped, *, now: datetime) -> bool:
        """Store a new data key; False when the id has one already (another process won)."""
        try:
            with self._engine.begin() as db:
                db.execute(
                    DATA_KEYS.insert().values(
                        key_id=key_id, wrapped=wrapped.blob, wrapped_by=wrapped.wrapped_by, created_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    def replace_wrapping(self, key_id: str, old: Wrapped, new: Wrapped) -> bool:
        """Rewrap, unless the key changed (or was erased) since `old` was read."""
        with self._engine.begin() as db:
            changed = db.execute(
                DATA_KEYS.update()
                .where(DATA_KEYS.c.key_id == key_id, DATA_KEYS.c.wrapped_by == old.wrapped_by)
                .where(DATA_KEYS.c.erased_at.is_(None))
                .values(wrapped=new.blob, wrapped_by=new.wrapped_by)
            ).rowcount
        return changed == 1

    def live_data_keys(self) -> Iterator[DataKeyRow]:
        with self._engine.connect() as db:
            rows = db.execute(
                sa.select(DATA_KEYS).where(DATA_KEYS.c.erased_at.is_(None)).order_by(DATA_KEYS.c.key_id)
            ).all()
        return (_data_key(row) for row in rows)

    def destroy_data_key(self, key_id: str, *, now: datetime) -> bool:
        """Blank the key (crypto-shredding); a tombstone row stays. False if there was none."""
        with self._engine.begin() as db:
            changed = db.execute(
                DATA_KEYS.update()
                .where(DATA_KEYS.c.key_id == key_id, DATA_KEYS.c.erased_at.is_(None))
                .values(wrapped=None, wrapped_by=None, erased_at=now)
            ).rowcount
            if not changed:
                # Erased before anything was written for it: a tombstone, so nothing ever is.
                exists = db.execute(sa.select(DATA_KEYS.c.key_id).where(DATA_KEYS.c.key_id == key_id)).first()
                if exists is None:
                    db.execute(DATA_KEYS.insert().values(key_id=key_id, created_at=now, erased_at=now))
        return changed == 1

    # ---------------------------------------------------------- suppression

    def digest(self, kind: str, value: str) -> str:
        """The salted hash this store keeps for an email address or a phone number."""
        normal = value.strip().lower() if kind == "email" else value.strip()
        return hashlib.sha256(self._salt() + f"{kind}:{normal}".encode()).hexdigest()

    def suppress(self, kind: str, value: str, *, now: datetime) -> None:
        digest = self.digest(kind, value)
        try:
            with self._engine.begin() as db:
                db.execute(SUPPRESSED.insert().values(digest=digest, kind=kind, at=now))
        except IntegrityError:
            pass  # suppressed already

    def is_suppressed(self, kind: str, value: str) -> bool:
        digest = self.digest(kind, value)
        with self._engine.connect() as db:
            return db.execute(sa.select(SUPPRESSED.c.digest).where(SUPPRESSED.c.digest == digest)).first() is not None

    def _salt(self) -> bytes:
        with self._engine.connect() as db:
            salt = db.execute(sa.select(SALT.c.salt).where(SALT.c.id == 1)).scalar_one_or_none()
        if salt is not None:
            return salt
        try:
            with self._engine.begin() as db:
                db.execute(SALT.insert().values(id=1, salt=os.urandom(32)))
        except IntegrityError:
            pass  # another process made it first: use theirs
        return self._salt()

    # ----------------------------------------------------------------- audit

    def audit(self, action: str, lead_id: str, *, actor: str, now: datetime) -> None:
        with self._engine.begin() as db:
            db.execute(AUDIT.insert().values(action=action, lead_id=lead_id, actor=actor, at=now))

    def audit_records(self, lead_id: str) -> list[AuditRecord]:
        with self._engine.connect() as db:
            rows = db.execute(sa.select(AUDIT).where(AUDIT.c.lead_id == lead_id).order_by(AUDIT.c.id)).all()
        return [AuditRecord(row.action, row.lead_id, row.actor, _aware(row.at)) for row in rows]  # type: ignore[arg-type]


def _data_key(row: sa.Row) -> DataKeyRow:
    wrapped = Wrapped(wrapped_by=row.wrapped_by, blob=row.wrapped) if row.wrapped is not None else None
    return DataKeyRow(row.key_id, wrapped, _aware(row.created_at), _aware(row.erased_at))  # type: ignore[arg-type]
