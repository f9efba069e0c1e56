"""SES message tags: how a lead id, send key or content id travels with a send and
comes back on its events. Written by delivery (activities/delivery/ses.py), read by the
ingest consumer (activities/inbound/ses_events.py). Tags never carry an address or a name.
"""

import hashlib
import re

# SES allows only these characters in a tag value, at most 256 of them.
_TAG_SAFE = re.compile(r"[A-Za-z0-9-]")
_TAG_ESCAPE = re.compile(rb"_([0-9A-F]{2})")
_TAG_MAX = 256


def tag_value(text: str) -> str:
    """`text` in SES's tag alphabet, reversibly: `crm.42:00001:day-1` → `crm_2E42_3A00001_3Aday-1`.

    Each UTF-8 byte outside `[A-Za-z0-9-]` becomes `_XX`. A value longer than SES's 256
    characters becomes `_-<sha256>` instead: `tag_text` then returns None, and that send
    cannot be reconciled by its event (the ledger's grace period applies).
    """
    escaped = "".join(
        chr(byte) if _TAG_SAFE.fullmatch(chr(byte)) else f"_{byte:02X}" for byte in text.encode()
    )
    if len(escaped) <= _TAG_MAX:
        return escaped
    return "_-" + hashlib.sha256(text.encode()).hexdigest()


def tag_text(value: str) -> str | None:
    """What `tag_value` encoded, or None for a value it had to replace by a hash."""
    if value.startswith("_-"):
        return None
    raw = _TAG_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), value.encode())
    return raw.decode("utf-8", "replace")
