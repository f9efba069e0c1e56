"""The send ledger's settings: SQLite for one host, DynamoDB for several.

A plain model (workers/settings.py reads it from TOUCHPOINT_LEDGER, a JSON object).
"""

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from activities.common.config import AWS_REGION, HTTP_URL

LEDGER_FILE = "send-ledger.sqlite3"
DATABASE_FILE = "touchpoint.sqlite3"


class LedgerConfig(BaseModel):
    """The send ledger (activities/stores/ledger.py)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["sqlite", "dynamodb"] = "sqlite"
    path: Path | None = Field(
        default=None, description=f"SQLite file; {LEDGER_FILE} beside the outbox directory when unset"
    )
    table: str = Field(default="touchpoint-send-ledger", pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    region: str | None = Field(default=None, pattern=AWS_REGION, description="DynamoDB region")
    endpoint_url: str | None = Field(default=None, pattern=HTTP_URL, description="Tests and emulators (moto) only")
    in_doubt_grace_seconds: float = Field(
        default=600,
        # Longer than an email activity may run (2 minutes): a claim younger than that
        # may belong to an attempt still in flight.
        ge=150,
        description=(
            "How long a send whose outcome is unknown waits for the provider's event before it "
            "is sent again; must exceed the send activity's start-to-close timeout"
        ),
    )

    @model_validator(mode="after")
    def _dynamodb_region(self) -> "LedgerConfig":
        if self.kind == "dynamodb" and self.region is None:
            raise ValueError("the DynamoDB ledger needs a region")
        return self

    @property
    def in_doubt_grace(self) -> timedelta:
        return timedelta(seconds=self.in_doubt_grace_seconds)

    def sqlite_path(self, *, beside: Path) -> Path:
        """The SQLite ledger's file: `path`, else one beside `beside` (the outbox directory)."""
        return self.path or beside.parent / LEDGER_FILE


class StoresConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ledger: LedgerConfig = Field(default_factory=LedgerConfig, description="Send ledger; SQLite when unset")
    database_url: str | None = Field(
        default=None,
        pattern=r"^(sqlite|postgresql|postgres)(\+\w+)?://",
        description="Touchpoint's SQL stores: sqlite:///path or postgresql://user@host/db; var/touchpoint.sqlite3 when unset",
    )

    def database(self, *, var_dir: Path) -> str:
        """The stores' database URL: `database_url`, else the SQLite file under `var_dir`."""
        return self.database_url or f"sqlite:///{var_dir / DATABASE_FILE}"
