"""The lead an inbound reply belongs to: by the signed reply-to address it was sent to,
else by the thread it answers (In-Reply-To/References against the send ledger's
message ids). Never by the From address: anyone can write it; the judge only uses it to
decide whether a reply matched by thread alone may act on the lead.
"""

from __future__ import annotations

from activities.common.tokens import verify_reply_token
from activities.inbound.replies import InboundEmail
from activities.stores.ledger import SendLedger
from workflows import names


def match_reply(
    email: InboundEmail, envelope: list[str], secrets: list[str], ledger: SendLedger
) -> tuple[str | None, str]:
    """The lead id and what matched it ("signed reply-to", "thread"), or (None, "").
    Blocking: the ledger lookups are SQLite or DynamoDB calls."""
    if secrets:
        for address in [*envelope, *email.recipients]:
            lead_id = verify_reply_token(address, secrets)
            if lead_id:
                return lead_id, "signed reply-to"
    for thread_id in email.thread_ids:
        for candidate in _message_id_candidates(thread_id):
            send_key = ledger.send_for_message(candidate)
            parsed = names.parse_send_key(send_key) if send_key else None
            if parsed is not None:
                return parsed.lead_id, "thread"
    return None, ""


def _message_id_candidates(thread_id: str) -> list[str]:
    """How the ledger may hold the id a Message-ID header names: our `<…>` form for the
    outbox and SMTP, the bare SES message id for SES (`<id@region.amazonses.com>`)."""
    bare = thread_id.strip().strip("<>")
    local, _, domain = bare.partition("@")
    candidates = [f"<{bare}>", bare]
    if domain.endswith("amazonses.com"):
        candidates.append(local)
    return candidates
