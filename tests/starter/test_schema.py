"""The published JSON Schemas in deploy/schema/ are exactly what the models generate."""

from pathlib import Path

from starter.schema import contract_schemas

SCHEMA_DIR = Path(__file__).parents[2] / "deploy" / "schema"


def test_committed_schemas_match_the_models() -> None:
    expected = contract_schemas()
    committed = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}

    assert sorted(committed) == sorted(expected), "regenerate with `touchpoint schema --out deploy/schema`"
    stale = [name for name, text in expected.items() if committed[name] != text]
    assert stale == [], f"{stale} drifted from the models: run `touchpoint schema --out deploy/schema`"
