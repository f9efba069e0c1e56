"""The codec endpoint as the Temporal UI and CLI use it: payloads round-trip through
/encode and /decode, the UI's origins pass the CORS preflight and no other does, bad
bodies get a 400 that says what is wrong, and nothing but sizes is logged."""

from pathlib import Path

import pytest
from google.protobuf import json_format
from structlog.testing import capture_logs
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.workers.web.conftest import Serve, no_temporal
from tests.workers.web.wrap_codec import WRAPPED, WrapCodec
from workers.settings import Settings
from workers.web.app import create_app
from workers.web.server import PassThroughCodec

UI = "http://localhost:8233"
ENROLL = {
    "lead": {"id": "crm-0042", "email": "dana@acme.example", "first_name": "Dana", "company": "Acme Freight"},
    "mode": "follow_up",
}


def app_for(tmp_path: Path, codec: object = None, **settings: object):
    return create_app(Settings(var_dir=tmp_path, **settings), temporal=no_temporal, codec=codec or WrapCodec())


def as_json(payloads: list[Payload]) -> dict[str, list[dict[str, object]]]:
    return {"payloads": [json_format.MessageToDict(payload) for payload in payloads]}


async def test_payloads_round_trip_through_encode_and_decode(tmp_path: Path, serve: Serve) -> None:
    plain = pydantic_data_converter.payload_converter.to_payloads([ENROLL, "a reply from Dana", None])

    async with serve(app_for(tmp_path)) as http:
        encoded = await http.post("/encode", json=as_json(plain), headers={"X-Namespace": "default"})
        decoded = await http.post("/decode", json=encoded.json(), headers={"X-Namespace": "default"})

    assert encoded.status_code == 200 and encoded.headers["Cache-Control"] == "no-store"
    wire = [json_format.ParseDict(item, Payload()) for item in encoded.json()["payloads"]]
    assert [payload.metadata["encoding"] for payload in wire] == [WRAPPED] * 3
    assert "dana@acme.example" not in encoded.text and b"dana@acme.example" not in b"".join(p.data for p in wire)
    assert decoded.status_code == 200 and decoded.json() == as_json(plain)
    assert pydantic_data_converter.payload_converter.from_payloads(
        [json_format.ParseDict(item, Payload()) for item in decoded.json()["payloads"]]
    ) == [ENROLL, "a reply from Dana", None]


async def test_plain_payloads_pass_decode_unchanged_and_an_empty_list_stays_a_list(
    tmp_path: Path, serve: Serve
) -> None:
    plain = as_json(pydantic_data_converter.payload_converter.to_payloads([ENROLL]))

    async with serve(app_for(tmp_path)) as http:
        decoded = await http.post("/decode", json=plain)
        empty = await http.post("/decode", json={"payloads": []})
        bare = await http.post("/encode", json={})

    assert decoded.json() == plain
    assert empty.json() == bare.json() == {"payloads": []}


@pytest.mark.parametrize("route", ["/encode", "/decode"])
@pytest.mark.parametrize("origin", ["http://localhost:8233", "http://127.0.0.1:8233"])
async def test_the_ui_preflight_succeeds_from_a_configured_origin(
    tmp_path: Path, serve: Serve, route: str, origin: str
) -> None:
    async with serve(app_for(tmp_path)) as http:
        answer = await http.options(
            route,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
            },
        )
        post = await http.post(route, json={"payloads": []}, headers={"Origin": origin})

    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    allowed = {header.strip().lower() for header in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"x-namespace", "content-type", "authorization"} <= allowed
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert post.status_code == 200 and post.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("route", ["/encode", "/decode"])
async def test_the_preflight_from_another_origin_is_refused(tmp_path: Path, serve: Serve, route: str) -> None:
    async with serve(app_for(tmp_path)) as http:
        answer = await http.options(
            route,
            headers={
                "Origin": "https://attacker.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        post = await http.post(route, json={"payloads": []}, headers={"Origin": "https://attacker.example"})

    assert answer.status_code == 400 and "Access-Control-Allow-Origin" not in answer.headers
    # A browser withholds the answer from the page: no Allow-Origin header.
    assert "Access-Control-Allow-Origin" not in post.headers


async def test_origins_come_from_the_settings_and_other_routes_get_no_cors(tmp_path: Path, serve: Serve) -> None:
    app = app_for(tmp_path, web_cors_origins="https://temporal.harborview.example")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}

    async with serve(app) as http:
        theirs = await http.options("/decode", headers={"Origin": "https://temporal.harborview.example", **preflight})
        local = await http.options("/decode", headers={"Origin": UI, **preflight})
        health = await http.get("/healthz", headers={"Origin": "https://temporal.harborview.example"})

    assert theirs.status_code == 200 and local.status_code == 400
    assert "Access-Control-Allow-Origin" not in health.headers


BAD_BODIES = [
    (b"{not json", "the body is not JSON"),
    (b"[1, 2]", "the body is not a JSON object"),
    (b'{"payload": []}', 'a field other than "payloads" ("payload")'),
    (b'{"payloads": "secret-value-123"}', '"payloads" is not a list'),
    (b'{"payloads": ["secret-value-123"]}', "payloads[0] is not an object"),
    (
        b'{"payloads": [{"data": "", "body": "secret-value-123"}]}',
        'payloads[0] has a field a Payload does not have: "body"',
    ),
    (b'{"payloads": [{}, {"data": 12345}]}', "payloads[1].data is not valid: it must be a base64 string"),
    (b'{"payloads": [{"metadata": "secret-value-123"}]}', "payloads[0].metadata is not valid"),
    (b'{"payloads": [{"metadata": {"encoding": "secret-value-123*"}}]}', "payloads[0].metadata is not valid"),
]


@pytest.mark.parametrize(("body", "says"), BAD_BODIES, ids=[says for _, says in BAD_BODIES])
async def test_a_bad_body_gets_a_400_naming_what_is_wrong(tmp_path: Path, serve: Serve, body: bytes, says: str) -> None:
    async with serve(app_for(tmp_path)) as http:
        answer = await http.post("/decode", content=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == 400, answer.text
    assert says in answer.json()["detail"]
    assert "secret-value-123" not in answer.text


async def test_a_body_that_is_not_json_by_its_content_type_is_refused(tmp_path: Path, serve: Serve) -> None:
    async with serve(app_for(tmp_path)) as http:
        answer = await http.post("/decode", content=b"payloads", headers={"Content-Type": "text/plain"})

    assert answer.status_code == 415 and "application/json" in answer.json()["detail"]


async def test_what_the_codec_cannot_decode_is_a_400_that_quotes_nothing(tmp_path: Path, serve: Serve) -> None:
    broken = Payload(metadata={"encoding": WRAPPED}, data=b"not base64 from dana@acme.example")

    with capture_logs() as logs:
        async with serve(app_for(tmp_path)) as http:
            answer = await http.post("/decode", json=as_json([broken]))

    assert answer.status_code == 400
    assert answer.json()["detail"] == "the codec could not decode the payloads (Error)"
    assert "dana" not in repr(logs) and "dana" not in answer.text


async def test_only_sizes_are_logged(tmp_path: Path, serve: Serve) -> None:
    plain = as_json(pydantic_data_converter.payload_converter.to_payloads([ENROLL]))

    with capture_logs() as logs:
        async with serve(app_for(tmp_path)) as http:
            encoded = await http.post("/encode", json=plain)
            await http.post("/decode", json=encoded.json())

    codec_lines = [entry for entry in logs if entry["event"] == "codec"]
    assert [entry["operation"] for entry in codec_lines] == ["encode", "decode"]
    for entry in codec_lines:
        assert set(entry) == {"event", "log_level", "operation", "payloads", "bytes_in", "bytes_out"}
    assert "dana" not in repr(logs).lower() and "acme" not in repr(logs).lower()


async def test_the_pass_through_codec_answers_what_it_was_given(tmp_path: Path, serve: Serve) -> None:
    plain = as_json(pydantic_data_converter.payload_converter.to_payloads([ENROLL]))

    async with serve(app_for(tmp_path, codec=PassThroughCodec())) as http:
        encoded = await http.post("/encode", json=plain)
        decoded = await http.post("/decode", json=plain)

    assert encoded.json() == decoded.json() == plain
