"""The payload codec: every payload Touchpoint writes to Temporal, encrypted with AES-256-GCM.

Each lead's payloads are encrypted with a data key of its own, `lead:<lead id>`, chosen
through the SDK's serialization context (it carries the workflow id, `lead-<lead id>`, to
the codec on clients and workers alike). Payloads written without a workflow (rare: no
context) use the data key `shared`. Erasing a lead destroys its data key, so every run of
its history, wherever it is kept, can no longer be read (crypto-shredding).

Wire format (documented for other languages in the README): an encrypted payload has
metadata `encoding: binary/encrypted`, `encryption-cipher: AES-256-GCM` and
`encryption-key-id: <data key id>`, and its data is `nonce (12 bytes) || ciphertext || tag
(16 bytes)` of the original `temporal.api.common.v1.Payload`, serialized as protobuf, with
the associated data `touchpoint-payload:<data key id>`. The key id is in the payload, so
the codec decodes without any context (the Web UI's codec endpoint gets payloads alone).
A payload without that encoding passes through decode unchanged: leads started before
the codec, and JSON a foreign client sent without it.

`build_codec(...)` makes one from settings; it needs no Temporal client.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext

from activities.privacy.cache import KeyCache
from activities.privacy.config import PrivacyConfig
from activities.privacy.keys import NONCE_BYTES, KeyRing, KeyUnavailable, KmsWrapping, Wrapping
from activities.privacy.store import PrivacyStore
from activities.stores import database
from activities.stores.config import StoresConfig
from workflows import names

ENCODING = b"binary/encrypted"
CIPHER = b"AES-256-GCM"
META_ENCODING = "encoding"
META_CIPHER = "encryption-cipher"
META_KEY_ID = "encryption-key-id"
SHARED_KEY_ID = "shared"
_LEAD_PREFIX = "lead:"


class KeyErased(KeyUnavailable):
    """The data key was destroyed: the lead was erased."""


def data_key_id(workflow_id: str | None) -> str:
    """`lead:<lead id>` for a lead's workflow; `shared` for anything else."""
    if workflow_id and workflow_id.startswith(names.workflow_id("")):
        return _LEAD_PREFIX + names.lead_id_of(workflow_id)
    return SHARED_KEY_ID


def lead_key_id(lead_id: str) -> str:
    return _LEAD_PREFIX + lead_id


class DataKeys:
    """Data keys by id: from the cache, else unwrapped from the store, else made (encode only)."""

    def __init__(self, store: PrivacyStore, wrapping: Wrapping, cache: KeyCache[AESGCM]) -> None:
        self.store = store
        self.wrapping = wrapping
        self._cache = cache

    async def for_encode(self, key_id: str) -> AESGCM:
        return self._cache.get(key_id) or await asyncio.to_thread(self._load, key_id, create=True)

    async def for_decode(self, key_id: str) -> AESGCM:
        return self._cache.get(key_id) or await asyncio.to_thread(self._load, key_id, create=False)

    def forget(self, key_id: str) -> None:
        self._cache.drop(key_id)

    def _load(self, key_id: str, *, create: bool) -> AESGCM:
        row = self.store.data_key(key_id)
        if row is None and create:
            data_key, wrapped = self.wrapping.new_data_key(data_key_id=key_id)
            if self.store.add_data_key(key_id, wrapped, now=datetime.now(UTC)):
                return self._keep(key_id, data_key)
            row = self.store.data_key(key_id)  # another process made it a moment ago
        if row is None:
            raise KeyUnavailable(
                f"no data key {key_id} in the key store: is this process using the same "
                "TOUCHPOINT_DATABASE_URL as the workers?"
            )
        if row.wrapped is None:
            erased = row.erased_at.date().isoformat() if row.erased_at else "an unknown date"
            raise KeyErased(
                f"data key {key_id} was destroyed on {erased} (the lead was erased): its payloads are unreadable"
            )
        return self._keep(key_id, self.wrapping.unwrap(row.wrapped, data_key_id=key_id))

    def _keep(self, key_id: str, data_key: bytes) -> AESGCM:
        aead = AESGCM(data_key)
        self._cache.put(key_id, aead)
        return aead


class LeadCodec(PayloadCodec, WithSerializationContext):
    """Encrypts with the data key of the workflow in context; decodes whatever key a payload names.

    `keep_unreadable`: a payload whose key is erased or unavailable is returned still
    encrypted instead of failing the whole call (for a codec endpoint that shows what it
    can); workers and clients leave it False, so a missing key is an error.
    """

    def __init__(self, keys: DataKeys, *, key_id: str = SHARED_KEY_ID, keep_unreadable: bool = False) -> None:
        self.keys = keys
        self.key_id = key_id
        self._keep_unreadable = keep_unreadable

    def with_context(self, context: SerializationContext) -> LeadCodec:
        key_id = data_key_id(getattr(context, "workflow_id", None))
        if key_id == self.key_id:
            return self
        return LeadCodec(self.keys, key_id=key_id, keep_unreadable=self._keep_unreadable)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if not payloads:
            return []
        aead = await self.keys.for_encode(self.key_id)
        aad = _aad(self.key_id)
        meta = {META_ENCODING: ENCODING, META_CIPHER: CIPHER, META_KEY_ID: self.key_id.encode()}
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            data = nonce + aead.encrypt(nonce, payload.SerializeToString(), aad)
            encoded.append(Payload(metadata=meta, data=data))
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [await self._decode(payload) for payload in payloads]

    async def _decode(self, payload: Payload) -> Payload:
        if payload.metadata.get(META_ENCODING) != ENCODING:
            return payload
        key_id = payload.metadata.get(META_KEY_ID, b"").decode()
        try:
            aead = await self.keys.for_decode(key_id)
        except KeyUnavailable:
            if self._keep_unreadable:
                return payload
            raise
        try:
            plain = aead.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], _aad(key_id))
        except InvalidTag:
            if self._keep_unreadable:
                return payload
            raise KeyUnavailable(
                f"a payload under data key {key_id} does not decrypt: altered, or another key store's"
            ) from None
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded


def _aad(key_id: str) -> bytes:
    return f"touchpoint-payload:{key_id}".encode()


class PrivacySettings(Protocol):
    """What `build_codec` reads from the composed settings (workers.settings.Settings)."""

    @property
    def privacy(self) -> PrivacyConfig: ...

    @property
    def stores(self) -> StoresConfig: ...

    @property
    def delivery(self) -> Any: ...  # .var_dir: where the local key file and database live


def build_codec(
    settings: PrivacySettings | PrivacyConfig,
    *,
    database_url: str | None = None,
    var_dir: Path | None = None,
    kms_client: Any = None,
    keep_unreadable: bool = False,
) -> LeadCodec:
    """The payload codec from the composed settings, or from a PrivacyConfig with
    `database_url` (and `var_dir` for the local key file). Raises NoPayloadKeys (a
    ValueError) when no key is configured: refuse to start rather than write plaintext."""
    if isinstance(settings, PrivacyConfig):
        config, var_dir = settings, var_dir or Path("var")
        if database_url is None:
            raise ValueError("build_codec(PrivacyConfig) needs database_url")
    else:
        config, var_dir = settings.privacy, settings.delivery.var_dir
        database_url = database_url or settings.stores.database(var_dir=var_dir)
    return LeadCodec(key_material(config, var_dir=var_dir, database_url=database_url, kms_client=kms_client),
                     keep_unreadable=keep_unreadable)  # fmt: skip


def key_material(config: PrivacyConfig, *, var_dir: Path, database_url: str, kms_client: Any = None) -> DataKeys:
    """The data keys of one key store, wrapped as `config` says (erase and rewrap use this too)."""
    ring = KeyRing(config.keys(var_dir=var_dir))
    kms = KmsWrapping(config.payload_kms, client=kms_client) if config.payload_kms else None
    cache: KeyCache[AESGCM] = KeyCache(size=config.key_cache_size, ttl=config.key_cache_seconds)
    return DataKeys(PrivacyStore(database.engine(database_url)), Wrapping(ring, kms), cache)
