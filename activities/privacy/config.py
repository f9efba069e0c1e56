"""The privacy concern's settings: the payload key ring, optional AWS KMS, the key cache.

A plain model (workers/settings.py reads TOUCHPOINT_PAYLOAD_KEYS, TOUCHPOINT_PAYLOAD_KEYS_FILE,
TOUCHPOINT_PAYLOAD_KMS, TOUCHPOINT_KEY_CACHE_SIZE and TOUCHPOINT_KEY_CACHE_SECONDS).
Nothing here reads the environment or a file: `PrivacyConfig.ring()` reads the key file
when a process asks for its keys.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError, field_validator

from activities.common.config import AWS_REGION, HTTP_URL

KEY_BYTES = 32  # AES-256
KEY_ID = r"^[A-Za-z0-9_.-]{1,64}$"
# Created by `make run` only (workers/local.py): a process never invents a key by itself.
LOCAL_KEYS_FILE = "payload-keys.json"


class NoPayloadKeys(ValueError):
    """No key ring is configured: the process must not start (it would write plaintext)."""


class PayloadKey(BaseModel):
    """One key of the ring: an id (written into every payload it protects) and 32 bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=KEY_ID)
    key: SecretStr = Field(description="32 random bytes, base64 (standard alphabet, padded)")

    @field_validator("key")
    @classmethod
    def _aes_256(cls, value: SecretStr) -> SecretStr:
        # The message never holds the value: it is a secret.
        try:
            raw = base64.b64decode(value.get_secret_value(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("key is not base64; generate one with `openssl rand -base64 32`") from None
        if len(raw) != KEY_BYTES:
            raise ValueError(f"key must be {KEY_BYTES} bytes (AES-256) once base64-decoded, not {len(raw)}")
        return value

    @property
    def secret(self) -> bytes:
        return base64.b64decode(self.key.get_secret_value())


KeyList = Annotated[list[PayloadKey], Field(min_length=1)]
_KEY_LIST: TypeAdapter[list[PayloadKey]] = TypeAdapter(KeyList)


class KmsConfig(BaseModel):
    """Envelope encryption: every data key is generated and wrapped by this KMS key."""

    model_config = ConfigDict(extra="forbid")

    key_id: str = Field(min_length=1, description="KMS key id, ARN or alias/…")
    region: str = Field(pattern=AWS_REGION)
    endpoint_url: str | None = Field(default=None, pattern=HTTP_URL, description="Tests and emulators (moto) only")


class PrivacyConfig(BaseModel):
    # Its input holds keys: an error names the field and never echoes the value.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    payload_keys: SecretStr | None = Field(
        default=None,
        description='JSON list [{"id": "k1", "key": "<base64 32 bytes>"}, ...]; the last one wraps new data keys',
    )
    payload_keys_file: Path | None = Field(
        default=None, description=f"A file holding that JSON list; var/{LOCAL_KEYS_FILE} when it exists"
    )
    payload_kms: KmsConfig | None = Field(default=None, description="Wrap data keys with AWS KMS instead of the ring")
    key_cache_size: int = Field(default=10_000, ge=1, le=10_000_000, description="Unwrapped data keys kept per process")
    key_cache_seconds: float = Field(
        default=300, ge=0, le=86_400, description="How long an unwrapped data key stays in memory"
    )

    @field_validator("payload_keys")
    @classmethod
    def _key_list(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_keys(value.get_secret_value(), source="TOUCHPOINT_PAYLOAD_KEYS")
        return value

    def keys(self, *, var_dir: Path) -> list[PayloadKey]:
        """The ring, oldest first: from `payload_keys`, else the key file. Raises
        NoPayloadKeys when neither is set and KMS is off, ValueError when a file is wrong."""
        if self.payload_keys is not None:
            return parse_keys(self.payload_keys.get_secret_value(), source="TOUCHPOINT_PAYLOAD_KEYS")
        path = self.payload_keys_file or var_dir / LOCAL_KEYS_FILE
        if path.is_file():
            return parse_keys(path.read_text(encoding="utf-8"), source=f"the key file {path}")
        if self.payload_keys_file is not None:
            raise NoPayloadKeys(f"TOUCHPOINT_PAYLOAD_KEYS_FILE names {path}, which does not exist")
        if self.payload_kms is not None:
            return []
        raise NoPayloadKeys(
            "no payload keys: set TOUCHPOINT_PAYLOAD_KEYS (or TOUCHPOINT_PAYLOAD_KEYS_FILE, or "
            "TOUCHPOINT_PAYLOAD_KMS); `make run` creates a local key under var/ for the demo only"
        )


def parse_keys(text: str, *, source: str) -> list[PayloadKey]:
    """The key list in `text`; the error names the entry and the field, never a value."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f'{source} is not JSON: expected [{{"id": ..., "key": ...}}, ...]') from None
    try:
        keys = _KEY_LIST.validate_python(data)
    except ValidationError as error:
        where = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc']) or 'the list'}: {detail['msg']}"
            for detail in error.errors(include_input=False)
        )
        raise ValueError(f"{source}: {where}") from None
    ids = [key.id for key in keys]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{source}: key ids must be unique, got {', '.join(ids)}")
    return keys
