"""The codec's bearer token: beyond loopback the app refuses to start without one; with
one, a codec request without it, or with another, is refused and one with it decodes."""

from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.workers.web.conftest import Serve, no_temporal
from tests.workers.web.wrap_codec import WrapCodec
from workers.settings import Settings
from workers.web.app import WebConfigError, create_app

TOKEN = "4f9c2e7a1b3d5f60718293a4b5c6d7e8"
BODY = {
    "payloads": [
        json_format.MessageToDict(payload)
        for payload in pydantic_data_converter.payload_converter.to_payloads([{"lead": "crm-0042"}])
    ]
}


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.7", "::", "web.internal"])
def test_beyond_loopback_the_app_refuses_to_start_without_a_token(tmp_path: Path, host: str) -> None:
    with pytest.raises(WebConfigError) as refused:
        create_app(Settings(var_dir=tmp_path, web_host=host), temporal=no_temporal, codec=WrapCodec())

    assert "TOUCHPOINT_WEB_CODEC_TOKEN" in str(refused.value) and "TOUCHPOINT_WEB_HOST" in str(refused.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
async def test_on_loopback_no_token_is_needed(tmp_path: Path, serve: Serve, host: str) -> None:
    app = create_app(Settings(var_dir=tmp_path, web_host=host), temporal=no_temporal, codec=WrapCodec())

    async with serve(app) as http:
        answer = await http.post("/decode", json=BODY)

    assert answer.status_code == 200 and answer.json() == BODY


async def test_with_a_token_a_request_without_it_is_refused_and_with_it_answered(tmp_path: Path, serve: Serve) -> None:
    settings = Settings(var_dir=tmp_path, web_host="0.0.0.0", web_codec_token=TOKEN)
    app = create_app(settings, temporal=no_temporal, codec=WrapCodec())
    origin = {"Origin": "http://localhost:8233"}

    async with serve(app) as http:
        missing = await http.post("/encode", json=BODY, headers=origin)
        wrong = await http.post("/decode", json=BODY, headers={"Authorization": f"Bearer {TOKEN[:-1]}x"})
        not_bearer = await http.post("/decode", json=BODY, headers={"Authorization": f"Basic {TOKEN}"})
        right = await http.post("/decode", json=BODY, headers={"Authorization": f"Bearer {TOKEN}", **origin})
        # The browser's preflight carries no Authorization: it must pass for the real request to be sent.
        preflight = await http.options(
            "/decode",
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
            },
        )

    for refused in (missing, wrong, not_bearer):
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
        assert "TOUCHPOINT_WEB_CODEC_TOKEN" in refused.json()["detail"] and TOKEN not in refused.text
    # The UI can read why it was refused.
    assert missing.headers["Access-Control-Allow-Origin"] == "http://localhost:8233"
    assert right.status_code == 200 and right.json() == BODY
    assert preflight.status_code == 200


async def test_health_needs_no_token(tmp_path: Path, serve: Serve) -> None:
    settings = Settings(var_dir=tmp_path, web_host="0.0.0.0", web_codec_token=TOKEN)

    async with serve(create_app(settings, temporal=no_temporal, codec=WrapCodec())) as http:
        answer = await http.get("/healthz")

    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_a_weak_token_is_refused_without_quoting_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as refused:
        Settings(var_dir=tmp_path, web_codec_token="hunter2hunter2hunter2")

    assert "TOUCHPOINT_WEB_CODEC_TOKEN" in str(refused.value) and "hunter2" not in str(refused.value)
