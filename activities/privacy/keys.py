"""Key wrapping: the ring of payload keys from settings, or AWS KMS (envelope encryption).

Payloads are never encrypted with a ring key directly: each lead has a data key of its
own (activities/privacy/store.py keeps it wrapped), and these classes wrap and unwrap
those data keys. The newest ring key (the last in the list) wraps new data keys; every
ring key unwraps; a data key wrapped by a key no longer in the ring cannot be read, and
the error names that key id. With KMS, KMS generates and wraps new data keys, and the
ring (if any) still unwraps the ones it wrapped before.

A ring-wrapped data key is `nonce (12 bytes) || AES-256-GCM(ring key, data key)` with
the associated data `touchpoint-data-key:<data key id>`, so a wrapped key copied to
another id does not unwrap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from activities.common.aws import aws_client
from activities.privacy.config import KEY_BYTES, KmsConfig, PayloadKey

NONCE_BYTES = 12
RING = "ring:"
KMS = "kms:"
# KMS checks this on decrypt: a data key of one lead cannot be unwrapped as another's.
KMS_CONTEXT_KEY = "touchpoint-data-key"


class KeyUnavailable(Exception):
    """A data key cannot be unwrapped here; the message names the key id and what to do."""


@dataclass(frozen=True)
class Wrapped:
    wrapped_by: str  # "ring:<key id>" or "kms:<KMS key ARN>"
    blob: bytes


def _aad(data_key_id: str) -> bytes:
    return f"touchpoint-data-key:{data_key_id}".encode()


class KeyRing:
    """The payload keys from settings, oldest first; the last one wraps."""

    def __init__(self, keys: list[PayloadKey]) -> None:
        self._keys = {key.id: AESGCM(key.secret) for key in keys}
        self.ids = [key.id for key in keys]

    @property
    def newest(self) -> str | None:
        return self.ids[-1] if self.ids else None

    def wrap(self, data_key: bytes, *, data_key_id: str) -> Wrapped:
        assert self.newest is not None, "a ring without keys wraps nothing"
        nonce = os.urandom(NONCE_BYTES)
        blob = nonce + self._keys[self.newest].encrypt(nonce, data_key, _aad(data_key_id))
        return Wrapped(wrapped_by=RING + self.newest, blob=blob)

    def unwrap(self, wrapped: Wrapped, *, data_key_id: str) -> bytes:
        key_id = wrapped.wrapped_by.removeprefix(RING)
        ring_key = self._keys.get(key_id)
        if ring_key is None:
            raise KeyUnavailable(
                f"payload key {key_id!r} is not in the key ring (TOUCHPOINT_PAYLOAD_KEYS has "
                f"{', '.join(self.ids) or 'no keys'}): it wraps data key {data_key_id}; add it back, "
                "or run `touchpoint rewrap-keys` with both keys before removing it"
            )
        try:
            return ring_key.decrypt(wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:], _aad(data_key_id))
        except InvalidTag:
            raise KeyUnavailable(
                f"payload key {key_id!r} does not unwrap data key {data_key_id}: the key under that id "
                "changed; put the original key back under that id"
            ) from None


class KmsWrapping:
    """Data keys generated and wrapped by one KMS key (GenerateDataKey / Decrypt)."""

    def __init__(self, config: KmsConfig, *, client: Any = None) -> None:
        self.key_id = config.key_id
        self._kms = client or aws_client("kms", region=config.region, endpoint_url=config.endpoint_url)

    def generate(self, *, data_key_id: str) -> tuple[bytes, Wrapped]:
        try:
            made = self._kms.generate_data_key(
                KeyId=self.key_id, KeySpec="AES_256", EncryptionContext={KMS_CONTEXT_KEY: data_key_id}
            )
        except (ClientError, BotoCoreError) as error:
            raise KeyUnavailable(f"KMS key {self.key_id!r} did not generate a data key: {error}") from None
        return made["Plaintext"], Wrapped(wrapped_by=KMS + made["KeyId"], blob=made["CiphertextBlob"])

    def wrap(self, data_key: bytes, *, data_key_id: str) -> Wrapped:
        try:
            made = self._kms.encrypt(
                KeyId=self.key_id, Plaintext=data_key, EncryptionContext={KMS_CONTEXT_KEY: data_key_id}
            )
        except (ClientError, BotoCoreError) as error:
            raise KeyUnavailable(f"KMS key {self.key_id!r} did not wrap data key {data_key_id}: {error}") from None
        return Wrapped(wrapped_by=KMS + made["KeyId"], blob=made["CiphertextBlob"])

    def unwrap(self, wrapped: Wrapped, *, data_key_id: str) -> bytes:
        try:
            return self._kms.decrypt(
                CiphertextBlob=wrapped.blob,
                KeyId=wrapped.wrapped_by.removeprefix(KMS),
                EncryptionContext={KMS_CONTEXT_KEY: data_key_id},
            )["Plaintext"]
        except (ClientError, BotoCoreError) as error:
            raise KeyUnavailable(
                f"KMS key {wrapped.wrapped_by.removeprefix(KMS)!r} did not unwrap data key {data_key_id}: {error}"
            ) from None


class Wrapping:
    """New data keys from KMS when configured, else from the ring; unwrapping by whoever wrapped."""

    def __init__(self, ring: KeyRing, kms: KmsWrapping | None = None) -> None:
        if ring.newest is None and kms is None:
            raise ValueError("a key ring or a KMS key is needed to wrap data keys")
        self.ring = ring
        self.kms = kms

    @property
    def current(self) -> str:
        """What wraps new data keys: `kms:<key id>` or `ring:<key id>`."""
        return KMS + self.kms.key_id if self.kms else RING + str(self.ring.newest)

    def new_data_key(self, *, data_key_id: str) -> tuple[bytes, Wrapped]:
        if self.kms is not None:
            return self.kms.generate(data_key_id=data_key_id)
        data_key = os.urandom(KEY_BYTES)
        return data_key, self.ring.wrap(data_key, data_key_id=data_key_id)

    def wrap(self, data_key: bytes, *, data_key_id: str) -> Wrapped:
        """Wrap an existing data key with the current wrapper (rotation)."""
        if self.kms is not None:
            return self.kms.wrap(data_key, data_key_id=data_key_id)
        return self.ring.wrap(data_key, data_key_id=data_key_id)

    def is_current(self, wrapped: Wrapped) -> bool:
        if self.kms is not None:
            # KMS answers with the key's ARN; configured may be an ARN, an id or an alias.
            return wrapped.wrapped_by.startswith(KMS)
        return wrapped.wrapped_by == self.current

    def unwrap(self, wrapped: Wrapped, *, data_key_id: str) -> bytes:
        if wrapped.wrapped_by.startswith(KMS):
            if self.kms is None:
                raise KeyUnavailable(
                    f"data key {data_key_id} is wrapped by KMS key {wrapped.wrapped_by.removeprefix(KMS)!r}: "
                    "set TOUCHPOINT_PAYLOAD_KMS to read it"
                )
            return self.kms.unwrap(wrapped, data_key_id=data_key_id)
        return self.ring.unwrap(wrapped, data_key_id=data_key_id)
