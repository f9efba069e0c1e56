"""Health: /healthz answers while nothing else is up; /readyz is 200 when Temporal, the send
ledger and the SQL database answer, else 503 naming what is not ready."""

from pathlib import Path

from activities.common.aws import aws_client
from activities.stores.config import LedgerConfig
from activities.stores.ledger import DynamoDbSendLedger, SendLedger, SqliteSendLedger, build_ledger
from starter.connection import TemporalConnection, connect
from tests.support.email_support import REGION
from tests.support.privacy import shared_codec
from tests.workers.web.conftest import Serve, no_temporal
from tests.workers.web.wrap_codec import WrapCodec
from workers.settings import Settings
from workers.web.app import create_app

# Nothing listens on port 9 (discard).
NO_POSTGRES = "postgresql://touchpoint@127.0.0.1:9/touchpoint"


def health_app(tmp_path: Path, ledger: SendLedger, *, temporal=no_temporal, **settings: object):
    return create_app(Settings(var_dir=tmp_path, **settings), temporal=temporal, codec=WrapCodec(), ledger=ledger)


async def test_healthz_answers_with_nothing_else_up(tmp_path: Path, serve: Serve) -> None:
    app = health_app(tmp_path, SqliteSendLedger(tmp_path / "ledger.sqlite3"), database_url=NO_POSTGRES)

    async with serve(app) as http:
        answer = await http.get("/healthz")

    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


async def test_ready_when_temporal_the_ledger_and_the_database_answer(
    tmp_path: Path, serve: Serve, server_address: str, postgres_url: str, ledger: SqliteSendLedger
) -> None:
    def temporal():
        return connect(TemporalConnection(temporal_address=server_address), codec=shared_codec())

    async with serve(health_app(tmp_path, ledger, temporal=temporal)) as http:
        on_sqlite = await http.get("/readyz")
    async with serve(health_app(tmp_path, ledger, temporal=temporal, database_url=postgres_url)) as http:
        on_postgres = await http.get("/readyz")

    for answer in (on_sqlite, on_postgres):
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "status": "ready",
            "not_ready": [],
            "checks": {"temporal": "ok", "ledger": "ok", "database": "ok"},
        }


async def test_not_ready_names_temporal_when_it_cannot_be_reached(
    tmp_path: Path, serve: Serve, ledger: SqliteSendLedger
) -> None:
    async with serve(health_app(tmp_path, ledger)) as http:
        answer = await http.get("/readyz")

    assert answer.status_code == 503
    assert answer.json()["not_ready"] == ["temporal"]
    assert answer.json()["checks"]["temporal"] == "unreachable (RuntimeError)"


async def test_not_ready_names_the_database_and_the_ledger_and_quotes_no_url(
    tmp_path: Path, serve: Serve, aws: str, server_address: str
) -> None:
    # A DynamoDB ledger whose table does not exist, on moto.
    missing_table = build_ledger(
        LedgerConfig(kind="dynamodb", table="no-such-ledger", region=REGION, endpoint_url=aws), beside=tmp_path
    )
    app = health_app(
        tmp_path,
        missing_table,
        temporal=lambda: connect(TemporalConnection(temporal_address=server_address), codec=shared_codec()),
        database_url=NO_POSTGRES,
    )

    async with serve(app) as http:
        answer = await http.get("/readyz")

    assert answer.status_code == 503
    assert answer.json()["not_ready"] == ["ledger", "database"]
    assert answer.json()["checks"]["temporal"] == "ok"
    assert "127.0.0.1:9" not in answer.text and "touchpoint@" not in answer.text


async def test_a_dynamodb_ledger_that_exists_is_ready(
    tmp_path: Path, serve: Serve, aws: str, server_address: str
) -> None:
    client = aws_client("dynamodb", region=REGION, endpoint_url=aws)
    DynamoDbSendLedger.create_table(client, "touchpoint-send-ledger")
    app = health_app(
        tmp_path,
        DynamoDbSendLedger(client, "touchpoint-send-ledger"),
        temporal=lambda: connect(TemporalConnection(temporal_address=server_address), codec=shared_codec()),
    )

    async with serve(app) as http:
        answer = await http.get("/readyz")

    assert answer.status_code == 200, answer.text
