"""API keys for the HTTP API (/v1): stored hashed, scoped, revocable; and the responses
kept for Idempotency-Key retries.

A key reads `tpk_<key id>_<secret>`. Only the SHA-256 of the secret is stored: the secret
is 32 random bytes, so a slow password hash would add nothing but latency per request.
The key id is not secret; it names the key in logs, lists and rate limits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from activities.stores.database import METADATA, engine

Scope = Literal["read", "write", "events"]
SCOPES: tuple[Scope, ...] = ("read", "write", "events")
_KEY = re.compile(r"tpk_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")
# A retried POST within this long gets the first answer again.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX = 255

API_KEYS = sa.Table(
    "api_keys",
    METADATA,
    sa.Column("key_id", sa.String(12), primary_key=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("scopes", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)
IDEMPOTENT_RESPONSES = sa.Table(
    "api_idempotent_responses",
    METADATA,
    sa.Column("key_id", sa.String(12), primary_key=True),
    sa.Column("idempotency_key", sa.String(IDEMPOTENCY_KEY_MAX), primary_key=True),
    sa.Column("request_sha256", sa.String(64), nullable=False),
    # NULL while the first request is still being answered.
    sa.Column("status_code", sa.Integer),
    sa.Column("body", sa.LargeBinary),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)


class KeyRefused(Exception):
    """The key is malformed, unknown or revoked; the message says which, never the key."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Remembered:
    """What an earlier request with the same Idempotency-Key got; status None while it runs."""

    request_sha256: str
    status_code: int | None
    body: bytes | None


class ApiKeyStore:
    def __init__(self, url: str, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._url = url
        self._clock = clock
        self._ready: sa.Engine | None = None

    @property
    def _engine(self) -> sa.Engine:
        """Connected on first use: the web app starts (and says why it is not ready) while
        the database is down."""
        if self._ready is None:
            ready = engine(self._url)
            METADATA.create_all(ready, tables=[API_KEYS, IDEMPOTENT_RESPONSES])
            self._ready = ready
        return self._ready

    # -- keys

    def create(self, name: str, scopes: Iterable[str]) -> tuple[ApiKey, str]:
        """A new key and its full text, shown once: only its hash is kept."""
        wanted = frozenset(scopes)
        unknown = sorted(wanted - set(SCOPES))
        if unknown or not wanted:
            raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(unknown) or 'none'}")
        if not 1 <= len(name) <= 100 or not name.isprintable():
            raise ValueError("name must be 1-100 printable characters, e.g. the service that uses the key")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        key = ApiKey(key_id=key_id, name=name, scopes=wanted, created_at=self._clock())
        with self._engine.begin() as connection:
            connection.execute(
                API_KEYS.insert().values(
                    key_id=key_id,
                    secret_sha256=_sha256(secret),
                    name=name,
                    scopes=",".join(sorted(wanted)),
                    created_at=key.created_at,
                )
            )
        return key, f"tpk_{key_id}_{secret}"

    def authenticate(self, presented: str) -> ApiKey:
        match = _KEY.fullmatch(presented)
        if match is None:
            raise KeyRefused(
                "not a Touchpoint API key (tpk_<id>_<secret>): create one with `touchpoint api-key create`"
            )
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(API_KEYS).where(API_KEYS.c.key_id == match["id"])).one_or_none()
        if row is None or not hmac.compare_digest(row.secret_sha256, _sha256(match["secret"])):
            raise KeyRefused(f"API key {match['id']} is not known: check the key, or create a new one")
        if row.revoked_at is not None:
            raise KeyRefused(f"API key {row.key_id} was revoked: ask for a new one")
        return _key(row)

    def revoke(self, key_id: str) -> bool:
        with self._engine.begin() as connection:
            done = connection.execute(
                API_KEYS.update()
                .where(API_KEYS.c.key_id == key_id, API_KEYS.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )
        return done.rowcount == 1

    def list(self) -> list[ApiKey]:
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(API_KEYS).order_by(API_KEYS.c.created_at)).all()
        return [_key(row) for row in rows]

    # -- idempotency

    def claim(self, key_id: str, idempotency_key: str, request_sha256: str) -> Remembered | None:
        """None when this request is the first with the key (now claimed); else what the first got."""
        now = self._clock()
        with self._engine.begin() as connection:
            connection.execute(
                IDEMPOTENT_RESPONSES.delete().where(IDEMPOTENT_RESPONSES.c.created_at < now - IDEMPOTENCY_WINDOW)
            )
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    IDEMPOTENT_RESPONSES.insert().values(
                        key_id=key_id, idempotency_key=idempotency_key, request_sha256=request_sha256, created_at=now
                    )
                )
            return None
        except IntegrityError:
            pass
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(IDEMPOTENT_RESPONSES).where(
                    IDEMPOTENT_RESPONSES.c.key_id == key_id, IDEMPOTENT_RESPONSES.c.idempotency_key == idempotency_key
                )
            ).one()
        return Remembered(row.request_sha256, row.status_code, row.body)

    def remember(self, key_id: str, idempotency_key: str, status_code: int, body: bytes) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                IDEMPOTENT_RESPONSES.update()
                .where(
                    IDEMPOTENT_RESPONSES.c.key_id == key_id, IDEMPOTENT_RESPONSES.c.idempotency_key == idempotency_key
                )
                .values(status_code=status_code, body=body)
            )

    def forget(self, key_id: str, idempotency_key: str) -> None:
        """The first request failed before it had an answer: a retry may run it again."""
        with self._engine.begin() as connection:
            connection.execute(
                IDEMPOTENT_RESPONSES.delete().where(
                    IDEMPOTENT_RESPONSES.c.key_id == key_id, IDEMPOTENT_RESPONSES.c.idempotency_key == idempotency_key
                )
            )


def request_digest(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row: sa.Row) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        name=row.name,
        scopes=frozenset(row.scopes.split(",")),
        created_at=_utc(row.created_at),
        revoked_at=_utc(row.revoked_at) if row.revoked_at else None,
    )


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
