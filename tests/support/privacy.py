"""The payload keys every test runs with, and the one key store they share.

Every Temporal client in the tests encrypts (tests/support/servers.py builds the servers'
clients with this codec), and a lead's data key is made by whichever process writes its
first payload, so every process of a test run (the test itself, a worker, a `touchpoint`
CLI it starts) must reach the same key store: `privacy_env()` and `privacy_settings()`
point them at it. The key is for tests only; it protects nothing.
"""

from __future__ import annotations

import atexit
import base64
import functools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from activities.privacy.codec import LeadCodec, build_codec
from activities.privacy.config import PrivacyConfig

TEST_KEY_ID = "test-1"
TEST_KEYS = json.dumps([{"id": TEST_KEY_ID, "key": base64.b64encode(bytes(range(32))).decode()}])


@functools.cache
def key_store_url() -> str:
    """A SQLite key store for this test run, removed when the run ends."""
    directory = Path(tempfile.mkdtemp(prefix="touchpoint-keys-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return f"sqlite:///{directory / 'keys.sqlite3'}"


@functools.cache
def shared_codec() -> LeadCodec:
    return build_codec(PrivacyConfig(payload_keys=TEST_KEYS), database_url=key_store_url())


def privacy_settings() -> dict[str, Any]:
    """Keyword arguments for `Settings(...)`: the test keys and the shared key store."""
    return {"payload_keys": TEST_KEYS, "database_url": key_store_url()}


def privacy_env() -> dict[str, str]:
    """The same, as the environment of a process a test starts."""
    return {"TOUCHPOINT_PAYLOAD_KEYS": TEST_KEYS, "TOUCHPOINT_DATABASE_URL": key_store_url()}
