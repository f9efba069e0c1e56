"""The stores' database: one URL setting, SQLite by default, PostgreSQL (a real one) in production."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from activities.stores import database
from activities.stores.config import StoresConfig
from workers.settings import Settings

PROBE = sa.Table("probe", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.Text))


def test_unset_the_stores_live_in_one_sqlite_file_under_var(tmp_path: Path):
    url = StoresConfig().database(var_dir=tmp_path / "var")
    assert url == f"sqlite:///{tmp_path / 'var' / 'touchpoint.sqlite3'}"
    with database.engine(url).begin() as connection:
        PROBE.create(connection)
        connection.execute(PROBE.insert().values(id=1, text="x"))
    assert (tmp_path / "var" / "touchpoint.sqlite3").exists()


def test_an_operator_writes_a_plain_postgresql_url_and_psycopg_drives_it():
    assert database.sqlalchemy_url("postgresql://tp@db.internal/touchpoint") == (
        "postgresql+psycopg://tp@db.internal/touchpoint"
    )
    assert database.sqlalchemy_url("sqlite:///var/x.sqlite3") == "sqlite:///var/x.sqlite3"


def test_the_same_tables_and_queries_run_on_a_real_postgresql(postgres_database: str):
    with database.engine(postgres_database).begin() as connection:
        PROBE.create(connection)
        connection.execute(PROBE.insert(), [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}])
        assert connection.execute(sa.select(sa.func.count()).select_from(PROBE)).scalar() == 2


@pytest.mark.parametrize("url", ["mysql://x/y", "var/touchpoint.sqlite3", "postgresql:/x"])
def test_a_database_url_of_another_kind_is_refused_naming_the_variable(url: str):
    with pytest.raises(ValueError, match="TOUCHPOINT_DATABASE_URL"):
        Settings(TOUCHPOINT_DATABASE_URL=url)
