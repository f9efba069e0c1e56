"""The send ledger: one row per send key, so a retried or restarted activity never sends twice.

Activities run at least once and SES takes no idempotency token, so before calling a
provider the activity *claims* the send key (lead id + step, unique per touch forever):

- `fresh`: nobody claimed it; call the provider, then `mark_sent(send_key, message_id)`.
- `sent(message_id)`: a retry after success; return the recorded id, send nothing.
- `in_doubt(claimed_at)`: claimed but never marked. An earlier attempt crashed (or
  lost the provider's answer) somewhere between the claim and the mark: the provider
  may or may not have accepted the message.

When the provider refused the message before accepting it, the activity `release`s the
claim so the retry can send. `record_provider_event(send_key, message_id)` is the
reconciliation input: the ingestion worker calls it for every SES `Send` event, whose
`send_key` tag names the key (activities/delivery/ses.py), and from then on the key reads as
`sent(message_id)`.

In-doubt policy (`claim_send`, activities/delivery/claims.py)
--------------------------------------------------------------
Never resend blindly. If a provider event has reconciled the key, the claim reads as
sent and its id is returned. Otherwise the attempt fails with a retryable
`SendInDoubt` ("send outcome in doubt, waiting for reconciliation") until
`in_doubt_grace_seconds` (default 600) have passed since the claim; after that the
claim is taken over (a compare-and-set on `claimed_at`, so two workers cannot both
take it) and the message is sent.

The trade-off: a crash in that window delays the touch by up to the grace period
even when nothing was sent (the common case: most crashes come before the provider
call), and when something *was* sent but its event never arrived (event publishing
off, ingestion down for longer than the grace), the lead gets the touch twice. A
longer grace makes the duplicate rarer and the delay longer; waiting forever would
trade a rare duplicate for a lead stuck silently. The grace must exceed the activity's
start-to-close timeout, or a slow attempt that is still running could be taken over.

Two implementations: SQLite (one file, WAL; one worker host) and DynamoDB (conditional
writes; any number of workers). Both also hold the opt-out table: lead ids that must
get no email whatever the workflow thinks, checked before every send.

Lookups for inbound events: `send_for_message` finds the send key (and so the lead) a
reply's In-Reply-To/References names, by the message id recorded at mark or provider
event; `leads_for_recipient` finds the leads texted at a phone number, recorded by the
SMS activity under a hash (activities/common/phones.phone_key), and the leads emailed at an
address, recorded by the email activity under an HMAC (activities/common/tokens.address_key):
never the number or the address itself.
"""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from activities.common.aws import aws_client
from activities.stores.config import LedgerConfig

DEFAULT_GRACE = timedelta(seconds=600)
# Send keys never start with "#" (lead ids cannot hold it), so opt-outs and the lookup
# items for inbound events share the table.
_OPT_OUT_PREFIX = "#opt-out#"
_MESSAGE_PREFIX = "#message#"
_RECIPIENT_PREFIX = "#recipient#"


class ClaimStatus(StrEnum):
    FRESH = "fresh"
    SENT = "sent"
    IN_DOUBT = "in_doubt"


@dataclass(frozen=True)
class Claim:
    status: ClaimStatus
    message_id: str | None = None
    claimed_at: datetime | None = None

    @classmethod
    def fresh(cls) -> "Claim":
        return cls(ClaimStatus.FRESH)

    @classmethod
    def sent(cls, message_id: str) -> "Claim":
        return cls(ClaimStatus.SENT, message_id=message_id)

    @classmethod
    def in_doubt(cls, claimed_at: datetime) -> "Claim":
        return cls(ClaimStatus.IN_DOUBT, claimed_at=claimed_at)


@dataclass(frozen=True)
class OptOut:
    reason: str
    at: datetime


class SendLedger(Protocol):
    def claim(self, send_key: str, *, lead_id: str, channel: str, now: datetime) -> Claim:
        """Claim the key for this attempt, or say who has it: fresh, sent or in doubt."""
        ...

    def take_over(self, send_key: str, *, claimed_at: datetime, now: datetime) -> bool:
        """Re-claim an in-doubt key; False when it changed since `claimed_at` was read."""
        ...

    def mark_sent(self, send_key: str, message_id: str) -> None:
        """The provider accepted the message under this id."""
        ...

    def release(self, send_key: str) -> None:
        """The provider refused the message before accepting it: let a retry claim again.

        A key already marked or reconciled is left as it is.
        """
        ...

    def record_provider_event(self, send_key: str, message_id: str) -> None:
        """The provider reports it accepted this key's message (reconciliation)."""
        ...

    def record_opt_out(self, lead_id: str, *, reason: str, at: datetime) -> None:
        """No more email to this lead, whatever the workflow asks (first reason wins)."""
        ...

    def opt_out(self, lead_id: str) -> OptOut | None: ...

    def send_for_message(self, message_id: str) -> str | None:
        """The send key of the message recorded under this id (ours or the provider's)."""
        ...

    def record_recipient(self, channel: str, address_key: str, lead_id: str) -> None:
        """Remember that `lead_id` was reached at `address_key` (a hash) on `channel`."""
        ...

    def leads_for_recipient(self, channel: str, address_key: str) -> list[str]: ...

    def lead_rows(self, lead_id: str) -> list[dict[str, Any]]:
        """Everything held for the lead (its sends, opt-out, recipient hashes), for export."""
        ...

    def forget_lead(self, lead_id: str) -> int:
        """Delete everything held for the lead (erasure); returns how many rows went."""
        ...


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _from_row(message_id: str | None, provider_id: str | None, claimed_at: str | None) -> Claim:
    if message_id:
        return Claim.sent(message_id)
    if provider_id:
        return Claim.sent(provider_id)
    # Rows are made by a claim (claimed_at) or by a mark or event (an id): never neither.
    assert claimed_at is not None
    return Claim.in_doubt(datetime.fromisoformat(claimed_at))


# ------------------------------------------------------------------------- SQLite


class SqliteSendLedger:
    """One SQLite file in WAL mode: safe for the threads and processes of one host.

    Each thread keeps one connection (activities run on a thread pool; a connection
    per call cost a WAL checkpoint and an fsync on every close, ~45% of send_email's
    CPU), and every read-then-write runs in a `BEGIN IMMEDIATE` transaction. Workers on
    several hosts need the DynamoDB ledger: SQLite locking over a network file system
    is unreliable.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS sends (
                    send_key TEXT PRIMARY KEY,
                    lead_id TEXT,
                    channel TEXT,
                    claimed_at TEXT,
                    message_id TEXT,
                    provider_message_id TEXT
                );
                CREATE TABLE IF NOT EXISTS opt_outs (
                    lead_id TEXT PRIMARY KEY,
                    reason TEXT NOT NULL,
                    at TEXT NOT NULL
                );
                CREATE INDEX IF NOT EXISTS sends_by_message ON sends (message_id);
                CREATE INDEX IF NOT EXISTS sends_by_provider_message ON sends (provider_message_id);
                CREATE TABLE IF NOT EXISTS recipients (
                    channel TEXT NOT NULL,
                    address_key TEXT NOT NULL,
                    lead_id TEXT NOT NULL,
                    PRIMARY KEY (channel, address_key, lead_id)
                );
                """
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = getattr(self._local, "db", None)
        if db is None:
            # isolation_level=None: statements autocommit unless inside an explicit BEGIN.
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        yield db

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def claim(self, send_key: str, *, lead_id: str, channel: str, now: datetime) -> Claim:
        with self._transaction() as db:
            inserted = db.execute(
                "INSERT INTO sends (send_key, lead_id, channel, claimed_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (send_key) DO NOTHING",
                (send_key, lead_id, channel, _stamp(now)),
            ).rowcount
            if inserted:
                return Claim.fresh()
            row = db.execute(
                "SELECT message_id, provider_message_id, claimed_at FROM sends WHERE send_key = ?",
                (send_key,),
            ).fetchone()
        return _from_row(*row)

    def take_over(self, send_key: str, *, claimed_at: datetime, now: datetime) -> bool:
        with self._connect() as db:
            return (
                db.execute(
                    "UPDATE sends SET claimed_at = ? WHERE send_key = ? AND claimed_at = ? "
                    "AND message_id IS NULL AND provider_message_id IS NULL",
                    (_stamp(now), send_key, _stamp(claimed_at)),
                ).rowcount
                == 1
            )

    def mark_sent(self, send_key: str, message_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO sends (send_key, message_id) VALUES (?, ?) "
                "ON CONFLICT (send_key) DO UPDATE SET message_id = excluded.message_id",
                (send_key, message_id),
            )

    def release(self, send_key: str) -> None:
        with self._connect() as db:
            db.execute(
                "DELETE FROM sends WHERE send_key = ? "
                "AND message_id IS NULL AND provider_message_id IS NULL",
                (send_key,),
            )

    def record_provider_event(self, send_key: str, message_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO sends (send_key, provider_message_id) VALUES (?, ?) "
                "ON CONFLICT (send_key) DO UPDATE SET provider_message_id = excluded.provider_message_id",
                (send_key, message_id),
            )

    def record_opt_out(self, lead_id: str, *, reason: str, at: datetime) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO opt_outs (lead_id, reason, at) VALUES (?, ?, ?) "
                "ON CONFLICT (lead_id) DO NOTHING",
                (lead_id, reason, _stamp(at)),
            )

    def opt_out(self, lead_id: str) -> OptOut | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT reason, at FROM opt_outs WHERE lead_id = ?", (lead_id,)
            ).fetchone()
        return OptOut(reason=row[0], at=datetime.fromisoformat(row[1])) if row else None

    def send_for_message(self, message_id: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT send_key FROM sends WHERE message_id = ? "
                "UNION ALL SELECT send_key FROM sends WHERE provider_message_id = ? LIMIT 1",
                (message_id, message_id),
            ).fetchone()
        return row[0] if row else None

    def record_recipient(self, channel: str, address_key: str, lead_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO recipients (channel, address_key, lead_id) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (channel, address_key, lead_id),
            )

    def leads_for_recipient(self, channel: str, address_key: str) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT lead_id FROM recipients WHERE channel = ? AND address_key = ? ORDER BY lead_id",
                (channel, address_key),
            ).fetchall()
        return [row[0] for row in rows]

    # A send key starts with its lead id and ":"; rows made by a mark or an event have no lead_id.
    _LEAD_SENDS = "FROM sends WHERE lead_id = ? OR substr(send_key, 1, length(?) + 1) = ? || ':'"

    def lead_rows(self, lead_id: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            try:
                sends = db.execute(f"SELECT * {self._LEAD_SENDS} ORDER BY send_key", (lead_id,) * 3).fetchall()
                opt_outs = db.execute("SELECT * FROM opt_outs WHERE lead_id = ?", (lead_id,)).fetchall()
                recipients = db.execute("SELECT * FROM recipients WHERE lead_id = ?", (lead_id,)).fetchall()
            finally:
                db.row_factory = None
        return [
            *({"table": "sends", **dict(row)} for row in sends),
            *({"table": "opt_outs", **dict(row)} for row in opt_outs),
            *({"table": "recipients", **dict(row)} for row in recipients),
        ]

    def forget_lead(self, lead_id: str) -> int:
        with self._transaction() as db:
            return (
                db.execute(f"DELETE {self._LEAD_SENDS}", (lead_id,) * 3).rowcount
                + db.execute("DELETE FROM opt_outs WHERE lead_id = ?", (lead_id,)).rowcount
                + db.execute("DELETE FROM recipients WHERE lead_id = ?", (lead_id,)).rowcount
            )


# ----------------------------------------------------------------------- DynamoDB


class DynamoDbSendLedger:
    """A DynamoDB table keyed by `send_key` (string): conditional writes make the claim atomic.

    `client` is a boto3 DynamoDB client (activities/common/aws.py). Reads are strongly
    consistent: an eventually consistent read could miss a claim made a moment ago.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    @staticmethod
    def create_table(client: Any, table: str) -> None:
        """Create the table (on-demand capacity) and wait until it is usable."""
        client.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "send_key", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "send_key", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(TableName=table)

    def claim(self, send_key: str, *, lead_id: str, channel: str, now: datetime) -> Claim:
        for _ in range(3):
            try:
                self._db.put_item(
                    TableName=self._table,
                    Item={
                        "send_key": {"S": send_key},
                        "lead_id": {"S": lead_id},
                        "channel": {"S": channel},
                        "claimed_at": {"S": _stamp(now)},
                    },
                    ConditionExpression="attribute_not_exists(send_key)",
                )
                return Claim.fresh()
            except ClientError as err:
                if not _condition_failed(err):
                    raise
            item = self._get(send_key)
            if item is not None:
                return _from_row(
                    _s(item, "message_id"), _s(item, "provider_message_id"), _s(item, "claimed_at")
                )
            # Released between the failed put and the read: claim again.
        raise RuntimeError(f"send key {send_key} was claimed and released repeatedly; retrying")

    def take_over(self, send_key: str, *, claimed_at: datetime, now: datetime) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"send_key": {"S": send_key}},
                UpdateExpression="SET claimed_at = :now",
                ConditionExpression=(
                    "claimed_at = :old AND attribute_not_exists(message_id) "
                    "AND attribute_not_exists(provider_message_id)"
                ),
                ExpressionAttributeValues={
                    ":now": {"S": _stamp(now)},
                    ":old": {"S": _stamp(claimed_at)},
                },
            )
        except ClientError as err:
            if _condition_failed(err):
                return False
            raise
        return True

    def mark_sent(self, send_key: str, message_id: str) -> None:
        self._set(send_key, "message_id", message_id)
        self._index_message(message_id, send_key)

    def release(self, send_key: str) -> None:
        try:
            self._db.delete_item(
                TableName=self._table,
                Key={"send_key": {"S": send_key}},
                ConditionExpression=(
                    "attribute_not_exists(message_id) AND attribute_not_exists(provider_message_id)"
                ),
            )
        except ClientError as err:
            if not _condition_failed(err):
                raise

    def record_provider_event(self, send_key: str, message_id: str) -> None:
        self._set(send_key, "provider_message_id", message_id)
        self._index_message(message_id, send_key)

    def _index_message(self, message_id: str, send_key: str) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={"send_key": {"S": _MESSAGE_PREFIX + message_id}, "target": {"S": send_key}},
        )

    def send_for_message(self, message_id: str) -> str | None:
        item = self._get(_MESSAGE_PREFIX + message_id)
        return _s(item, "target") if item else None

    def record_recipient(self, channel: str, address_key: str, lead_id: str) -> None:
        self._db.update_item(
            TableName=self._table,
            Key={"send_key": {"S": f"{_RECIPIENT_PREFIX}{channel}#{address_key}"}},
            UpdateExpression="ADD lead_ids :lead",
            ExpressionAttributeValues={":lead": {"SS": [lead_id]}},
        )

    def leads_for_recipient(self, channel: str, address_key: str) -> list[str]:
        item = self._get(f"{_RECIPIENT_PREFIX}{channel}#{address_key}")
        return sorted(item["lead_ids"]["SS"]) if item and "lead_ids" in item else []

    def record_opt_out(self, lead_id: str, *, reason: str, at: datetime) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "send_key": {"S": _OPT_OUT_PREFIX + lead_id},
                    "lead_id": {"S": lead_id},
                    "reason": {"S": reason},
                    "at": {"S": _stamp(at)},
                },
                ConditionExpression="attribute_not_exists(send_key)",
            )
        except ClientError as err:
            if not _condition_failed(err):
                raise

    def opt_out(self, lead_id: str) -> OptOut | None:
        item = self._get(_OPT_OUT_PREFIX + lead_id)
        if item is None:
            return None
        return OptOut(reason=item["reason"]["S"], at=datetime.fromisoformat(item["at"]["S"]))

    def _lead_items(self, lead_id: str) -> list[dict[str, Any]]:
        """A scan: erasure and export are rare, and no index names a lead's items."""
        items: list[dict[str, Any]] = []
        scan: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "FilterExpression": "lead_id = :lead OR begins_with(send_key, :prefix) "
            "OR begins_with(target, :prefix) OR contains(lead_ids, :lead)",
            "ExpressionAttributeValues": {":lead": {"S": lead_id}, ":prefix": {"S": f"{lead_id}:"}},
        }
        while True:
            page = self._db.scan(**scan)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def lead_rows(self, lead_id: str) -> list[dict[str, Any]]:
        return [
            {name: sorted(value["SS"]) if "SS" in value else value.get("S") for name, value in item.items()}
            for item in self._lead_items(lead_id)
        ]

    def forget_lead(self, lead_id: str) -> int:
        items = self._lead_items(lead_id)
        for item in items:
            key = {"send_key": item["send_key"]}
            shared = item.get("lead_ids", {}).get("SS", [])
            if len(shared) > 1:
                # A recipient hash other leads were reached at too: only this lead leaves it.
                self._db.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression="DELETE lead_ids :lead",
                    ExpressionAttributeValues={":lead": {"SS": [lead_id]}},
                )
            else:
                self._db.delete_item(TableName=self._table, Key=key)
        return len(items)

    def _get(self, key: str) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self._table, Key={"send_key": {"S": key}}, ConsistentRead=True
        )
        return response.get("Item")

    def _set(self, send_key: str, attribute: str, value: str) -> None:
        # No condition: creates the item when missing (an event for a key we lost).
        self._db.update_item(
            TableName=self._table,
            Key={"send_key": {"S": send_key}},
            UpdateExpression="SET #attribute = :value",
            ExpressionAttributeNames={"#attribute": attribute},
            ExpressionAttributeValues={":value": {"S": value}},
        )


def _s(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value["S"] if value else None


def _condition_failed(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def build_ledger(config: LedgerConfig, *, beside: Path) -> SendLedger:
    """The ledger `config` names: DynamoDB, or SQLite (`config.path`, else beside `beside`,
    the outbox directory)."""
    if config.kind == "dynamodb":
        assert config.region is not None
        client = aws_client("dynamodb", region=config.region, endpoint_url=config.endpoint_url)
        return DynamoDbSendLedger(client, config.table)
    return SqliteSendLedger(config.sqlite_path(beside=beside))
