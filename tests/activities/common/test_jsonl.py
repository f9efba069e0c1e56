"""The local SMS outbox and rep-task file: one record per key, readable by the owner only."""

import stat
from pathlib import Path

from activities.common.jsonl import JsonLines


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_retried_append_writes_once(tmp_path: Path) -> None:
    lines = JsonLines(tmp_path / "tasks.jsonl", key="task_id")
    first = lines.append_once({"task_id": "crm-1:task-1", "title": "call"})
    again = lines.append_once({"task_id": "crm-1:task-1", "title": "changed"})
    assert again == first
    assert (tmp_path / "tasks.jsonl").read_text(encoding="utf-8").count("\n") == 1


def test_the_file_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "sms-outbox.jsonl"
    JsonLines(path, key="send_key").append_once({"send_key": "crm-1:00001:day-1", "to": "+13125550142"})
    assert mode(path) == 0o600


def test_a_file_left_readable_by_an_older_version_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "rep-tasks.jsonl"
    path.write_text("", encoding="utf-8")
    path.chmod(0o644)
    JsonLines(path, key="task_id").append_once({"task_id": "crm-1:task-1"})
    assert mode(path) == 0o600
