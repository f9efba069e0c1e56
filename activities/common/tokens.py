"""Signed lead tokens: the one-click unsubscribe link and the per-lead reply-to address;
and the keyed digests that must not be computable from public data: our Message-IDs
(`message_id_digest`) and the recipient index's email address keys (`address_key`).

Both carry the lead id in the clear with an HMAC-SHA256 of it, so whoever receives one
(the unsubscribe endpoint, the reply ingestion) learns the lead without a lookup and
cannot be fooled by an edited id. Lead ids are CRM keys, not personal data (they are
part of workflow ids already); no address or name is ever in a token.

The two kinds are signed over different prefixes, so a reply address cannot be turned
into an unsubscribe link or back. Tokens do not expire: an unsubscribe link must work
for as long as the email can be read. To rotate the secret, sign with the new one and
verify with `[new, old]` until the old emails no longer matter (`split_secrets` reads
that list from one setting, `secret_weakness` refuses secrets that could be guessed).

Pure functions: no I/O, no clock; the unsubscribe endpoint (workers/web/unsubscribe.py)
imports `verify_unsubscribe_token`.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from email.utils import parseaddr

# Same rule as workflows.models.LEAD_ID_PATTERN (a lead id is part of the workflow id).
_LEAD_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_UNSUBSCRIBE = b"touchpoint-unsubscribe\x00"
_REPLY = b"touchpoint-reply\x00"
_MESSAGE_ID = b"touchpoint-message-id\x00"
_ADDRESS = b"touchpoint-address\x00"
UNSUBSCRIBE_PATH = "/u/"
REPLY_LOCAL_PREFIX = "replies+"
# 8 hex digits (32 bits) keep the address short; a guess still needs ~2^31 tries per lead,
# and a forged reply address only lets the sender's mail reach that lead's rep.
_REPLY_MAC_LENGTH = 8
_REPLY_MAC = re.compile(rf"[0-9a-fA-F]{{{_REPLY_MAC_LENGTH}}}")
# RFC 5321 4.5.3.1.1: a local part is at most 64 octets.
_MAX_LOCAL_PART = 64
# Tokens are in every email: a short or repetitive secret could be found offline from one.
MIN_SECRET_LENGTH = 16
MIN_SECRET_DISTINCT = 8
GOOD_SECRET_HINT = "make one with `openssl rand -hex 32`"


def _mac(secret: str, purpose: bytes, lead_id: str) -> bytes:
    if not secret:
        raise ValueError("the token secret is empty")
    return hmac.new(secret.encode(), purpose + lead_id.encode(), hashlib.sha256).digest()


def _secrets(secret: str | Sequence[str]) -> list[str]:
    return [secret] if isinstance(secret, str) else [s for s in secret if s]


def split_secrets(value: str) -> list[str]:
    """`new,old` → `["new", "old"]`: one setting holds every secret while one is rotated
    out; the first signs, all verify. A single secret (no comma) is a list of one."""
    return [part.strip() for part in value.split(",")]


def secret_weakness(secret: str) -> str | None:
    """Why `secret` is too weak to sign with, or None. Never quotes the secret."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it has {len(secret)} characters, at least {MIN_SECRET_LENGTH} characters are needed"
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        return f"it has only {len(set(secret))} distinct characters, at least {MIN_SECRET_DISTINCT} are needed"
    return None


# ----------------------------------------------------------- keyed digests


def message_id_digest(send_key: str, secret: str) -> str:
    """32 hex digits for our Message-ID: send keys are public (lead id, step), so an
    unkeyed hash of one would let anyone forge a reply into a lead's thread."""
    return _mac(secret, _MESSAGE_ID, send_key).hex()[:32]


def address_key(address: str, secret: str) -> str:
    """The recipient index's key for an email address: keyed, so the index holds no
    address anyone can recover by hashing a list of them. Case and spaces do not count."""
    return _mac(secret, _ADDRESS, address.strip().lower()).hex()


# ----------------------------------------------------------------- unsubscribe


def make_unsubscribe_token(lead_id: str, secret: str) -> str:
    """`<lead id>.<signature>`, URL-safe as it stands (no quoting needed in a path)."""
    if not _LEAD_ID.fullmatch(lead_id):
        raise ValueError(f"lead id {lead_id!r} is not a valid lead id")
    signature = base64.urlsafe_b64encode(_mac(secret, _UNSUBSCRIBE, lead_id)).rstrip(b"=")
    return f"{lead_id}.{signature.decode()}"


def verify_unsubscribe_token(token: str, secret: str | Sequence[str]) -> str | None:
    """The lead id the token was made for, or None for anything forged, cut or mangled."""
    lead_id, dot, signature = token.rpartition(".")
    if not dot or not _LEAD_ID.fullmatch(lead_id):
        return None
    for key in _secrets(secret):
        expected = make_unsubscribe_token(lead_id, key).rpartition(".")[2]
        if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return lead_id
    return None


def unsubscribe_url(base_url: str, lead_id: str, secret: str) -> str:
    """The link for List-Unsubscribe: `<base>/u/<token>` (served by workers/web/unsubscribe.py)."""
    return f"{base_url.rstrip('/')}{UNSUBSCRIBE_PATH}{make_unsubscribe_token(lead_id, secret)}"


# ----------------------------------------------------------------------- reply-to


def make_reply_address(lead_id: str, secret: str, domain: str) -> str | None:
    """`replies+<lead id>.<mac8>@<domain>`, or None when this lead id cannot make one.

    None for ids too long for an address's local part (over 47 characters) or that
    would make an invalid one (`..`, a trailing `.`): the caller falls back to the
    sender's own address, so the rep still gets the reply.
    """
    if not _LEAD_ID.fullmatch(lead_id):
        raise ValueError(f"lead id {lead_id!r} is not a valid lead id")
    mac = _mac(secret, _REPLY, lead_id).hex()[:_REPLY_MAC_LENGTH]
    local = f"{REPLY_LOCAL_PREFIX}{lead_id}.{mac}"
    if len(local) > _MAX_LOCAL_PART or ".." in local:
        return None
    return f"{local}@{domain}"


def verify_reply_token(address: str, secret: str | Sequence[str]) -> str | None:
    """The lead id a reply was addressed to, from `replies+<lead id>.<mac8>@…`, else None.

    Accepts a bare address or a header value such as `"Acme" <replies+…@…>`. The lead id
    is taken as written: a relay that lowercases local parts breaks ids with capitals,
    and the check then fails (None) rather than naming another lead.
    """
    local, at, _domain = parseaddr(address)[1].rpartition("@")
    if not at or local[: len(REPLY_LOCAL_PREFIX)].lower() != REPLY_LOCAL_PREFIX:
        return None
    lead_id, dot, mac = local[len(REPLY_LOCAL_PREFIX) :].rpartition(".")
    if not dot or not _LEAD_ID.fullmatch(lead_id) or not _REPLY_MAC.fullmatch(mac):
        return None
    for key in _secrets(secret):
        expected = _mac(key, _REPLY, lead_id).hex()[:_REPLY_MAC_LENGTH]
        if hmac.compare_digest(expected, mac.lower()):
            return lead_id
    return None
