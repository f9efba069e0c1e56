"""Inbound texts: STOP and START are consent changes, anything else is a reply.

AWS End User Messaging SMS (and SNS two-way SMS) publishes each text a lead sends to
our number to an SNS topic as `{"originationNumber", "destinationNumber",
"messageKeyword", "messageBody", "inboundMessageId", "previousPublishedMessageId"}`
(https://docs.aws.amazon.com/sms-voice/latest/userguide/two-way-sms-payload.html).
`messageKeyword` is the keyword registered for our number, not what the lead typed, so
the keyword is read from `messageBody`. Pure parsing: no I/O, no clock.

What counts as STOP is deliberately wider than what carriers honour: a lead who wrote
"Stop texting me" asked to stop, and texting them again is the costly mistake (for
them, and under the TCPA for us), while reading a reply as an opt-out only stops SMS
(email goes on, and START restores it). So a message is `stop` when

1. all of it, ignoring case, punctuation and the spaces between words, is a stop
   word: "STOP", "Stop.", "stop!", "opt-out", "Stop all";
2. or it has at most 8 words and begins (after "please"/"pls") with an unambiguous
   stop word: "Stop texting me", "please stop", "Unsubscribe me";
3. or it has at most 8 words and says "unsubscribe", "opt out", "stop all" or
   "stop texting/messaging/contacting…" anywhere: "can you stop texting me".

The price of that safe side: "Stop by Tuesday" reads as stop too, so the lead gets no
more texts and the text is not handed to the rep as a reply (email goes on). END,
CANCEL, QUIT and REMOVE therefore count only alone (rule 1): as the first word of a
short message they are usually an answer ("End of month works", "Cancel Tuesday's
call"). A longer message stays a reply, and the rep who owns the conversation reads it.

START is the opposite case: only the bare word START or UNSTOP (rule 1) opts back in.
"YES" does not: it is the commonest answer to a question a touch or rep asks, and
reading it as consent would resume texts to someone who said STOP.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from activities.inbound.ses_events import MalformedEvent, Signal, bounded_event_id, unwrap_sns
from workflows import names

# Carrier and AWS opt-out keywords, plus REVOKE (named by the FCC's 2025 revocation
# rule) and ARRET (AWS's default for French-speaking Canada).
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REMOVE", "REVOKE", "ARRET"}
)
START_WORDS = frozenset({"START", "UNSTOP"})
# Stop words that mean nothing but "stop" at the start of a sentence (rule 2).
_PLAIN_STOP = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "OPTOUT", "REVOKE", "ARRET"})
_POLITE = frozenset({"PLEASE", "PLS", "PLZ", "KINDLY"})
_STOP_WHAT = frozenset(
    {"TEXTING", "TEXT", "TEXTS", "MESSAGING", "MESSAGE", "MESSAGES", "CONTACTING", "SENDING", "SMS", "ALL"}
)
_SHORT_WORDS = 8
_WORDS = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
# Our own number may be a short code rather than an E.164 long code.
_OUR_NUMBER = re.compile(r"\+[1-9]\d{6,14}|\+?\d{3,8}")

Keyword = Literal["stop", "start"]


@dataclass(frozen=True)
class InboundSms:
    from_number: str  # E.164: the lead's phone
    to_number: str  # our number (E.164 or a short code)
    body: str
    inbound_id: str
    previous_message_id: str | None  # the id of our message the lead answered, when known
    keyword: Keyword | None


def parse_inbound_sms(body: str) -> InboundSms:
    """One inbound text (SNS-wrapped or raw) → who sent it, what it says, STOP/START."""
    message = unwrap_sns(body)
    from_number = _required(message, "originationNumber")
    if not _E164.fullmatch(from_number):
        # The number itself stays out of the message: it would end up in a log.
        raise MalformedEvent(
            f"inbound SMS originationNumber is not an E.164 number ({len(from_number)} characters)"
        )
    to_number = _required(message, "destinationNumber")
    if not _OUR_NUMBER.fullmatch(to_number):
        raise MalformedEvent(f"inbound SMS destinationNumber {to_number!r} is neither E.164 nor a short code")
    if "messageBody" not in message:
        raise MalformedEvent("inbound SMS has no messageBody")
    text = message["messageBody"]
    if not isinstance(text, str):
        raise MalformedEvent(f"inbound SMS messageBody is a {type(text).__name__}, not a string")
    inbound_id = _required(message, "inboundMessageId")
    previous = message.get("previousPublishedMessageId")
    return InboundSms(
        from_number=from_number,
        to_number=to_number,
        body=text,
        inbound_id=inbound_id,
        previous_message_id=previous if isinstance(previous, str) and previous else None,
        keyword=sms_keyword(text),
    )


def sms_keyword(text: str) -> Keyword | None:
    """`stop`, `start` or None for a text, by the rules in this module's docstring."""
    # Accents folded, so "Arrêt" is ARRET; apostrophes dropped, so "don't" is one word.
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.upper()) if not unicodedata.combining(c))
    words = [re.sub("['’]", "", w) for w in _WORDS.findall(plain)]
    whole = "".join(words)
    if whole in STOP_WORDS:
        return "stop"
    if whole in START_WORDS:
        return "start"
    if not words or len(words) > _SHORT_WORDS:
        return None
    start = 0
    while start < len(words) - 1 and words[start] in _POLITE:
        start += 1
    if words[start] in _PLAIN_STOP:
        return "stop"
    for word, after in zip(words, [*words[1:], ""]):
        if word in ("UNSUBSCRIBE", "OPTOUT", "STOPALL") or word + after == "OPTOUT":
            return "stop"
        if word == "STOP" and after in _STOP_WHAT:
            return "stop"
    return None


def sms_signals(sms: InboundSms, lead_id: str) -> Signal:
    """The signal for `lead_id`: SMS opt-out, opt-in, or a reply to hand to the rep."""
    event_id = bounded_event_id(f"sms:{sms.inbound_id}")
    if sms.keyword == "stop":
        return Signal(lead_id, names.SIGNAL_ENGAGEMENT, {"event_id": event_id, "kind": "sms_opt_out"})
    if sms.keyword == "start":
        return Signal(lead_id, names.SIGNAL_ENGAGEMENT, {"event_id": event_id, "kind": "sms_opt_in"})
    return Signal(lead_id, names.SIGNAL_REPLY, {"event_id": event_id, "text": sms.body, "channel": "sms"})


def _required(message: dict[str, object], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"inbound SMS has no {key}")
    return value
