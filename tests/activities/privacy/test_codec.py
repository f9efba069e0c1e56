"""The payload codec: per-lead data keys, pass-through of old payloads, rotation, KMS, the cache."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import ActivitySerializationContext, WorkflowSerializationContext

from activities.privacy.cache import KeyCache
from activities.privacy.codec import ENCODING, META_KEY_ID, KeyErased, build_codec
from activities.privacy.config import NoPayloadKeys, PrivacyConfig
from activities.privacy.keys import KeyUnavailable
from activities.privacy.local_key import ensure_local_keys
from activities.privacy.store import PrivacyStore
from activities.stores import database
from starter.connection import data_converter

SECRET = b'{"email": "dana@acme.example", "first_name": "Dana"}'


def ring(*ids: str) -> str:
    return json.dumps([{"id": key_id, "key": base64.b64encode(key_bytes(key_id)).decode()} for key_id in ids])


def key_bytes(key_id: str) -> bytes:
    return (key_id.encode() * 32)[:32]


def codec_for(tmp_path: Path, keys: str, **extra):
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    return build_codec(PrivacyConfig(payload_keys=keys, key_cache_seconds=0), database_url=url, **extra)


def json_payload(data: bytes = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def lead_context(lead_id: str) -> WorkflowSerializationContext:
    return WorkflowSerializationContext(namespace="default", workflow_id=f"lead-{lead_id}")


async def test_a_leads_payload_is_encrypted_with_its_own_key_and_decodes_without_context(tmp_path: Path) -> None:
    codec = codec_for(tmp_path, ring("k1"))

    [encrypted] = await codec.with_context(lead_context("crm-1")).encode([json_payload()])

    assert encrypted.metadata["encoding"] == ENCODING
    assert encrypted.metadata[META_KEY_ID] == b"lead:crm-1"
    assert b"dana" not in encrypted.data and b"Dana" not in encrypted.data
    # The Web UI's codec endpoint has no context: the payload names its key.
    assert await codec.decode([encrypted]) == [json_payload()]


async def test_an_activity_of_the_lead_uses_the_leads_key(tmp_path: Path) -> None:
    codec = codec_for(tmp_path, ring("k1"))
    context = ActivitySerializationContext(
        namespace="default", activity_id="1", activity_type="send_email", activity_task_queue="q",
        workflow_id="lead-crm-1", workflow_type="LeadWorkflow", is_local=False,
    )  # fmt: skip

    [encrypted] = await codec.with_context(context).encode([json_payload()])

    assert encrypted.metadata[META_KEY_ID] == b"lead:crm-1"


async def test_payloads_without_a_workflow_use_the_shared_key(tmp_path: Path) -> None:
    codec = codec_for(tmp_path, ring("k1"))

    [encrypted] = await codec.encode([json_payload()])

    assert encrypted.metadata[META_KEY_ID] == b"shared"
    assert await codec.decode([encrypted]) == [json_payload()]


async def test_a_payload_it_did_not_encrypt_passes_through(tmp_path: Path) -> None:
    codec = codec_for(tmp_path, ring("k1"))
    plain = json_payload()

    assert await codec.decode([plain]) == [plain]


async def test_a_changed_ciphertext_or_key_id_does_not_decode(tmp_path: Path) -> None:
    codec = codec_for(tmp_path, ring("k1"))
    [one] = await codec.with_context(lead_context("crm-1")).encode([json_payload()])
    await codec.with_context(lead_context("crm-2")).encode([json_payload()])
    moved = Payload(metadata={**one.metadata, META_KEY_ID: b"lead:crm-2"}, data=one.data)

    with pytest.raises(KeyUnavailable, match="does not decrypt"):
        await codec.decode([moved])


async def test_rotation_old_key_still_decrypts_new_key_wraps_and_a_removed_key_is_named(tmp_path: Path) -> None:
    old = codec_for(tmp_path, ring("k1"))
    [before] = await old.with_context(lead_context("crm-1")).encode([json_payload()])

    # Step 1: append k2. k1 still unwraps crm-1's data key; new data keys are wrapped by k2.
    both = codec_for(tmp_path, ring("k1", "k2"))
    [after] = await both.with_context(lead_context("crm-2")).encode([json_payload()])
    assert await both.decode([before, after]) == [json_payload(), json_payload()]
    store = both.keys.store
    assert store.data_key("lead:crm-1").wrapped.wrapped_by == "ring:k1"
    assert store.data_key("lead:crm-2").wrapped.wrapped_by == "ring:k2"

    # Removing k1 too early: the error names the key id, and what to do.
    without_k1 = codec_for(tmp_path, ring("k2"))
    with pytest.raises(KeyUnavailable, match=r"payload key 'k1' is not in the key ring.*rewrap-keys"):
        await without_k1.decode([before])

    # Step 2: rewrap every data key with k2 (what `touchpoint rewrap-keys` does); then k1 can go.
    for row in list(store.live_data_keys()):
        if not both.keys.wrapping.is_current(row.wrapped):
            data_key = both.keys.wrapping.unwrap(row.wrapped, data_key_id=row.key_id)
            assert store.replace_wrapping(
                row.key_id, row.wrapped, both.keys.wrapping.wrap(data_key, data_key_id=row.key_id)
            )
    assert await codec_for(tmp_path, ring("k2")).decode([before, after]) == [json_payload(), json_payload()]


async def test_an_erased_leads_payloads_cannot_be_decoded(tmp_path: Path) -> None:
    codec = codec_for(tmp_path, ring("k1"))
    lead = codec.with_context(lead_context("crm-1"))
    [encrypted] = await lead.encode([json_payload()])

    assert codec.keys.store.destroy_data_key("lead:crm-1", now=datetime.now(UTC))
    codec.keys.forget("lead:crm-1")

    with pytest.raises(KeyErased, match="lead:crm-1 was destroyed"):
        await codec.decode([encrypted])
    with pytest.raises(KeyErased):
        await lead.encode([json_payload()])  # nothing more is written for an erased lead
    # A codec endpoint may show what it can: the payload comes back still encrypted.
    assert await codec_for(tmp_path, ring("k1"), keep_unreadable=True).decode([encrypted]) == [encrypted]


async def test_kms_envelope_wraps_data_keys_and_the_ring_still_reads_older_ones(tmp_path: Path, aws_client) -> None:
    kms = aws_client("kms")
    key_arn = kms.create_key(Description="touchpoint test")["KeyMetadata"]["Arn"]
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    ring_only = build_codec(PrivacyConfig(payload_keys=ring("k1")), database_url=url)
    [older] = await ring_only.with_context(lead_context("crm-1")).encode([json_payload()])
    config = PrivacyConfig(
        payload_keys=ring("k1"),
        payload_kms={"key_id": key_arn, "region": "us-east-1", "endpoint_url": "http://unused.invalid"},
        key_cache_seconds=0,
    )

    codec = build_codec(config, database_url=url, kms_client=kms)
    [newer] = await codec.with_context(lead_context("crm-2")).encode([json_payload()])

    row = PrivacyStore(database.engine(url)).data_key("lead:crm-2")
    assert row.wrapped.wrapped_by == f"kms:{key_arn}"
    assert await codec.decode([older, newer]) == [json_payload(), json_payload()]
    # Without KMS configured, the KMS-wrapped key is named as such.
    with pytest.raises(KeyUnavailable, match="wrapped by KMS key"):
        await build_codec(PrivacyConfig(payload_keys=ring("k1")), database_url=url).decode([newer])


async def test_a_whole_data_converter_round_trips_a_model_and_a_failure(tmp_path: Path) -> None:
    converter = data_converter(codec_for(tmp_path, ring("k1"))).with_context(lead_context("crm-1"))

    [payload] = await converter.encode([{"email": "dana@acme.example"}])

    assert b"acme" not in payload.SerializeToString()
    assert await converter.decode([payload]) == [{"email": "dana@acme.example"}]


def test_no_keys_means_no_codec(tmp_path: Path) -> None:
    with pytest.raises(NoPayloadKeys, match="TOUCHPOINT_PAYLOAD_KEYS"):
        build_codec(PrivacyConfig(), database_url=f"sqlite:///{tmp_path / 'k.sqlite3'}", var_dir=tmp_path)


def test_a_bad_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError) as error:
        PrivacyConfig(payload_keys=json.dumps([{"id": "k1", "key": "c2hvcnQ="}]))
    assert "32 bytes" in str(error.value) and "c2hvcnQ=" not in str(error.value)


def test_the_local_key_is_made_once_owner_only(tmp_path: Path) -> None:
    path = ensure_local_keys(tmp_path)
    first = path.read_text()

    assert ensure_local_keys(tmp_path) == path and path.read_text() == first
    assert os.stat(path).st_mode & 0o777 == 0o600
    keys = PrivacyConfig().keys(var_dir=tmp_path)
    assert len(keys) == 1 and len(keys[0].secret) == 32


def test_the_key_cache_is_bounded_and_expires() -> None:
    now = [0.0]
    cache: KeyCache[str] = KeyCache(size=2, ttl=10, clock=lambda: now[0])
    cache.put("a", "A")
    cache.put("b", "B")
    cache.get("a")
    cache.put("c", "C")  # b was used least recently

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    now[0] = 10
    assert cache.get("a") is None and len(cache) == 1
