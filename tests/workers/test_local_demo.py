"""The one-command demo: the dev server it starts, and enrolling the examples only once."""

import uuid
from pathlib import Path

from starter.connection import connect
from tests.support.privacy import shared_codec
from workers.local import dev_server_command, enroll_examples, local_settings
from workers.settings import Settings
from workflows import names, search_attributes


def test_dev_server_registers_every_search_attribute_with_its_type(tmp_path: Path) -> None:
    command = dev_server_command(temporal=Path("temporal"), db_file=tmp_path / "temporal.db")

    registered = [command[i + 1] for i, arg in enumerate(command) if arg == "--search-attribute"]
    assert len(registered) == len(search_attributes.ALL)
    assert "LeadMode=Keyword" in registered
    assert "LeadNextTouchAt=Datetime" in registered
    assert command[command.index("--db-filename") + 1] == str(tmp_path / "temporal.db")
    assert command[command.index("--ip") + 1] == "127.0.0.1"


def test_the_local_ui_decodes_through_the_web_app_on_loopback(tmp_path: Path) -> None:
    command = dev_server_command(temporal=Path("temporal"), db_file=tmp_path / "temporal.db")
    # A token or a wider address from the environment would lock the local UI out of its codec.
    demo = local_settings(Settings(web_host="0.0.0.0", web_port=9000, web_codec_token="4f9c2e7a1b3d5f60718293a4b5c6"))

    assert command[command.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8088"
    assert (demo.web.web_host, demo.web.web_port, demo.web.web_codec_token) == ("127.0.0.1", 8088, None)
    assert "http://localhost:8233" in demo.web.web_cors_origins


def test_demo_never_talks_to_a_configured_cluster() -> None:
    production = Settings(temporal_address="sales.a1b2c.tmprl.cloud:7233", namespace="sales.a1b2c", api_key="tp-key")

    demo = local_settings(production)

    assert demo.connection.temporal_address == "127.0.0.1:7233"
    assert demo.connection.namespace == "default"
    assert demo.connection.api_key is None
    assert demo.connection.uses_tls is False


async def test_running_the_demo_again_enrolls_nobody_twice(server_address: str, namespace: str, tmp_path: Path) -> None:
    settings = Settings(
        temporal_address=server_address, namespace=namespace, task_queue=f"demo-{uuid.uuid4()}", var_dir=tmp_path
    )
    client = await connect(settings.connection, codec=shared_codec())

    first = await enroll_examples(client, settings)

    async def run_ids() -> dict[str, str | None]:
        return {
            lead_id: (await client.get_workflow_handle(names.workflow_id(lead_id)).describe()).run_id
            for lead_id in first
        }

    before = await run_ids()
    again = await enroll_examples(client, settings)

    assert first and again == first
    assert await run_ids() == before
