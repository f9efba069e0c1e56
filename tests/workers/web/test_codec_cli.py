"""The stock `temporal` CLI reads an encoded history through the codec endpoint
(`--codec-endpoint`, `--codec-auth`): the protocol as Temporal's own client speaks it."""

import asyncio
import dataclasses
import json
import sys
import uuid
from pathlib import Path

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.workers.web.wrap_codec import WRAPPED, WrapCodec
from workers.settings import Settings
from workers.web.app import create_app
from workers.web.server import WebServer

TEMPORAL = Path(sys.executable).parent / "temporal"
TOKEN = "9d1e6b2c7a4f3e8051c2d3b4a5f60718"
ENROLL = {"lead": {"id": "crm-0042", "email": "dana@acme.example"}, "mode": "follow_up"}


async def temporal_cli(*args: str) -> str:
    # Not subprocess.run: the app answering the CLI runs on this event loop.
    process = await asyncio.create_subprocess_exec(
        str(TEMPORAL), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode()


def started_input(history_json: str) -> list[Payload]:
    """The workflow input in the started event of `temporal workflow show --output json`."""
    started = json.loads(history_json)["events"][0]["workflowExecutionStartedEventAttributes"]
    return [json_format.ParseDict(payload, Payload()) for payload in started["input"]["payloads"]]


async def test_the_cli_shows_decoded_input_only_through_the_endpoint(tmp_path: Path, server_address: str) -> None:
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=WrapCodec())
    client = await Client.connect(server_address, data_converter=converter)
    settings = Settings(var_dir=tmp_path, web_host="0.0.0.0", web_codec_token=TOKEN)
    app = create_app(settings, temporal=client, codec=WrapCodec())
    workflow_id = f"codec-cli-{uuid.uuid4().hex[:8]}"
    # No worker polls this queue: the started event alone holds the encoded input.
    handle = await client.start_workflow("LeadWorkflow", ENROLL, id=workflow_id, task_queue=f"none-{workflow_id}")
    show = ["workflow", "show", "-w", workflow_id, "--address", server_address, "--output", "json"]
    try:
        async with WebServer(app, host="127.0.0.1", port=0) as server:
            raw = await temporal_cli(*show)
            decoded = await temporal_cli(*show, "--codec-endpoint", server.url, "--codec-auth", f"Bearer {TOKEN}")
    finally:
        await handle.terminate(reason="test done")

    [stored] = started_input(raw)
    assert stored.metadata["encoding"] == WRAPPED and b"dana@acme.example" not in stored.data
    [shown] = started_input(decoded)
    assert pydantic_data_converter.payload_converter.from_payloads([shown]) == [ENROLL]
