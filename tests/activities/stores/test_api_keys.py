"""API keys and idempotent responses, on SQLite and on a real PostgreSQL."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activities.stores.api_keys import ApiKeyStore, KeyRefused, request_digest
from workers.api import keys_cli
from workers.cli import build_parser
from workers.settings import Settings


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    return request.getfixturevalue("postgres_database")


def test_a_key_is_shown_once_kept_hashed_and_revocable(url: str) -> None:
    store = ApiKeyStore(url)
    key, secret = store.create("crm-sync", ["write", "read"])
    assert secret.startswith(f"tpk_{key.key_id}_") and store.authenticate(secret).scopes == {"read", "write"}
    with store._engine.connect() as connection:  # noqa: SLF001 - what the database holds
        stored = " ".join(str(v) for row in connection.exec_driver_sql("SELECT * FROM api_keys") for v in row)
    assert secret.split("_", 2)[2] not in stored
    with pytest.raises(KeyRefused, match="not known"):
        store.authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    assert store.revoke(key.key_id) and not store.revoke(key.key_id)
    with pytest.raises(KeyRefused, match="revoked"):
        store.authenticate(secret)


@pytest.mark.parametrize(("name", "scopes"), [("x", []), ("x", ["admin"]), ("", ["read"]), ("a\nb", ["read"])])
def test_a_key_needs_a_name_and_known_scopes(url: str, name: str, scopes: list[str]) -> None:
    with pytest.raises(ValueError):
        ApiKeyStore(url).create(name, scopes)


def test_an_idempotency_key_is_claimed_once_and_forgotten_after_a_day(url: str) -> None:
    now = [datetime(2026, 12, 1, tzinfo=UTC)]
    store = ApiKeyStore(url, clock=lambda: now[0])
    digest = request_digest("POST", "/v1/leads", b"{}")
    assert store.claim("k1", "retry-1", digest) is None
    assert store.claim("k1", "retry-1", digest).status_code is None  # still running
    store.remember("k1", "retry-1", 201, b'{"created": true}')
    assert store.claim("k1", "retry-1", digest).body == b'{"created": true}'
    assert store.claim("k2", "retry-1", digest) is None  # keys are per API key
    now[0] += timedelta(hours=25)
    assert store.claim("k1", "retry-1", digest) is None


def test_the_cli_creates_lists_and_revokes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(var_dir=tmp_path)

    def touchpoint(*argv: str) -> tuple[int, str, str]:
        code = keys_cli.run(build_parser().parse_args(["api-key", *argv]), settings)
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = touchpoint("create", "--name", "crm-sync", "--scope", "read", "--scope", "events")
    key_id = out.split()[3]
    assert code == 0 and out.splitlines()[1].startswith(f"tpk_{key_id}_")
    assert key_id in touchpoint("list")[1] and "active" in touchpoint("list")[1]
    assert touchpoint("revoke", key_id)[0] == 0 and "revoked" in touchpoint("list")[1]
    code, _, err = touchpoint("revoke", "nope")
    assert code == 2 and "no active API key 'nope'" in err
