"""The demo's key: `make run` (workers/local.py) makes one under var/ on its first run.

Only `make run` calls this. Every other process reads its keys from settings and refuses
to start without them (activities/privacy/config.py), so production never invents a key.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from activities.privacy.config import KEY_BYTES, LOCAL_KEYS_FILE


def ensure_local_keys(var_dir: Path) -> Path:
    """`var_dir/payload-keys.json` (mode 0600), created with one fresh key if missing."""
    path = var_dir / LOCAL_KEYS_FILE
    if path.exists():
        return path
    var_dir.mkdir(parents=True, exist_ok=True)
    key = {"id": f"local-{datetime.now(UTC):%Y%m%d}", "key": base64.b64encode(os.urandom(KEY_BYTES)).decode()}
    # O_EXCL: two demos starting at once never overwrite each other's key.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with open(descriptor, "w", encoding="utf-8") as file:
        file.write(json.dumps([key], indent=2) + "\n")
    return path
