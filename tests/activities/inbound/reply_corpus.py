"""The reply corpus in tests/fixtures/replies/: raw MIME as Gmail, Outlook (web, desktop,
mobile, classic), Apple Mail, iPhone, Thunderbird, help desks and auto-responders send
it; expected.toml holds what a human made of each reply, written before the rules were
tuned. Shared by the tests of each step (mime, strip, classify, dates)."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

from activities.inbound.replies import Classification, InboundEmail, classify, parse_email, strip_reply

FIXTURES = Path(__file__).parents[2] / "fixtures" / "replies"
MANIFEST = tomllib.loads((FIXTURES / "expected.toml").read_text(encoding="utf-8"))
TODAY: date = MANIFEST["today"]
CASES: dict[str, dict] = MANIFEST["cases"]


def read(name: str) -> tuple[InboundEmail, str, Classification]:
    message = parse_email((FIXTURES / f"{name}.eml").read_bytes())
    text = strip_reply(message.text)
    result = classify(text, subject=message.subject, auto_headers=message.auto_headers, today=TODAY)
    return message, text, result
