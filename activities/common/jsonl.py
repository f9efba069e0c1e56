"""An append-only JSON-lines file with one unique field: the local SMS outbox and task sink."""

import json
import os
import threading
from pathlib import Path
from typing import Any


class JsonLines:
    """Appending a record whose key is on file already is a no-op: a retry writes once."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self._key = key
        # Sync activities run in a thread pool: the check and the append must not interleave.
        self._lock = threading.Lock()

    def append_once(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append `record` unless one with the same key exists; return the record on file."""
        with self._lock:
            existing = self._find(record[self._key])
            if existing is not None:
                return existing
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Owner-only, like the .eml outbox: the records hold names, numbers and notes.
            # fchmod too: a file an older version created keeps its mode otherwise.
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.fchmod(descriptor, 0o600)
            with open(descriptor, "a", encoding="utf-8") as file:
                file.write(json.dumps(record, ensure_ascii=False) + "\n")
            return record

    def _find(self, value: Any) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        with self.path.open(encoding="utf-8") as file:
            for line in file:
                if line.strip() and (record := json.loads(line)).get(self._key) == value:
                    return record
        return None
