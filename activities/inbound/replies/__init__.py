"""Inbound email replies: parse the MIME, keep only the new text, and say what it means.

Pure functions over bytes and strings: no I/O, no clock (the lead's local `today` is
passed in), stdlib `email` and `html.parser` only. The ingestion consumer calls
`parse_email` → `strip_reply` → `classify` and signals the lead's workflow with the
result; whatever the rules cannot read with confidence comes back as intent None, and
the engine hands the reply to a rep.

One module a step:
- `mime`: the received bytes as an `InboundEmail` (addresses, thread ids, plain text);
- `strip`: the new text of a reply, without quoted history, signatures and footers;
- `classify`: what that text means, by phrase rules, each verdict explained;
- `dates`: the days a reply names ("in 3 months", "back on the 14th"), for `classify`.
"""

from activities.inbound.replies.classify import Classification, classify
from activities.inbound.replies.mime import InboundEmail, ReplyParseError, parse_email
from activities.inbound.replies.strip import strip_reply

__all__ = ["Classification", "InboundEmail", "ReplyParseError", "classify", "parse_email", "strip_reply"]
