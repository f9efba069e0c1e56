"""Inbound texts: STOP ends texting, START restores it, anything else reaches the rep."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from activities.common.phones import phone_key
from activities.inbound.ses_events import MalformedEvent
from activities.inbound.sms import START_WORDS, STOP_WORDS, InboundSms, parse_inbound_sms, sms_keyword, sms_signals
from tests.support.inbound_messages import inbound_sms, sns_envelope, sns_subscription_confirmation
from workflows.models import EVENT_ID_MAX, EngagementEvent, ReplyEvent

FIXTURES = Path(__file__).parents[2] / "fixtures" / "sms"


def parsed(body: str = "Sounds good", **fields: Any) -> InboundSms:
    return parse_inbound_sms(json.dumps(inbound_sms(body, **fields)))


def malformed(message: dict[str, Any] | str) -> str:
    with pytest.raises(MalformedEvent) as raised:
        parse_inbound_sms(message if isinstance(message, str) else json.dumps(message))
    return str(raised.value)


# ------------------------------------------------------------------------- payloads


def test_a_documented_reply_is_read_raw_or_from_sns() -> None:
    raw = parse_inbound_sms((FIXTURES / "reply.json").read_text())
    assert raw == InboundSms(
        from_number="+14255550182",
        to_number="+12125550101",
        body="Sounds good, call me Thursday",
        inbound_id="cae173d2-66b9-564c-8309-21f858e9fb84",
        previous_message_id="wJ0Xr3l0LIsIs1ZbOGgepsZgpFV6kaLJwyLoZL7JK1dR5Z9vPWN2ObcfnACIk5cHW",
        keyword=None,
    )
    assert parse_inbound_sms((FIXTURES / "reply.sns.json").read_text()) == raw


def test_documented_stop_and_start_fixtures() -> None:
    stop = parse_inbound_sms((FIXTURES / "stop.sns.json").read_text())
    start = parse_inbound_sms((FIXTURES / "start.json").read_text())
    assert (stop.keyword, start.keyword) == ("stop", "start")
    assert start.previous_message_id is None


def test_the_registered_keyword_is_not_what_the_lead_typed() -> None:
    """messageKeyword names our number's keyword; only messageBody says STOP."""
    assert parsed("Sounds good", keyword="STOP").keyword is None
    assert parsed("stop", keyword="JOIN").keyword == "stop"


def test_a_short_code_is_accepted_as_our_number() -> None:
    assert parsed(to_number="24321").to_number == "24321"


# ---------------------------------------------------------------------- STOP/START


@pytest.mark.parametrize("word", sorted(STOP_WORDS))
@pytest.mark.parametrize("spelling", ["{}", "{}.", "{}!", "  {}  ", "{}!!!", "¡{}!"])
def test_every_stop_word_alone_stops_whatever_the_case_or_punctuation(word: str, spelling: str) -> None:
    for cased in (word, word.lower(), word.title()):
        assert sms_keyword(spelling.format(cased)) == "stop"


@pytest.mark.parametrize("text", ["Stop all", "STOP ALL", "opt out", "Opt-Out", "OPT_OUT", "Arrêt", "stop 🛑"])
def test_stop_words_written_apart_or_accented_still_stop(text: str) -> None:
    assert sms_keyword(text) == "stop"


@pytest.mark.parametrize(
    "text",
    [
        "Stop texting me",
        "STOP please",
        "please stop",
        "Pls STOP!!",
        "please stop texting me",
        "Unsubscribe me",
        "opt out please",
        "can you stop texting me",
        "I want to unsubscribe",
        "Please remove me, unsubscribe",
        "Don’t text me, stop messaging",
    ],
)
def test_a_short_message_asking_to_stop_stops(text: str) -> None:
    assert sms_keyword(text) == "stop"


@pytest.mark.parametrize(
    "text",
    [
        "End of month works for me",
        "Cancel Tuesday's call, something came up",
        "Remove Jim from the thread",
        "Quit my old job, new email soon",
        "Sounds good, call me Thursday",
        "HELP",
        "",
        "   ",
        "🙂",
        # Long messages go to the rep, who owns the conversation.
        "Thanks for the case study, we will talk internally and get back to you; stop texting for now",
    ],
)
def test_ordinary_replies_are_not_opt_outs(text: str) -> None:
    assert sms_keyword(text) is None


@pytest.mark.parametrize("word", sorted(START_WORDS))
@pytest.mark.parametrize("spelling", ["{}", "{}.", "{}!", " {} "])
def test_start_or_unstop_alone_opts_back_in(word: str, spelling: str) -> None:
    for cased in (word, word.lower(), word.title()):
        assert sms_keyword(spelling.format(cased)) == "start"


@pytest.mark.parametrize("text", ["YES", "Yes!", "y", "Start date is Monday", "start the trial", "Unstop me please"])
def test_only_a_bare_start_word_restores_texting(text: str) -> None:
    """Opting back in must be unmistakable: YES answers questions, it does not give consent."""
    assert sms_keyword(text) is None


def test_stop_and_start_sets_are_disjoint() -> None:
    assert not STOP_WORDS & START_WORDS


# ------------------------------------------------------------------------- signals


def test_stop_becomes_an_sms_opt_out() -> None:
    signal = sms_signals(parsed("STOP"), "crm-0042")
    assert (signal.lead_id, signal.name) == ("crm-0042", "engagement")
    model = EngagementEvent.model_validate_json(json.dumps(signal.payload))
    assert (model.kind, model.event_id) == ("sms_opt_out", "sms:cae173d2-66b9-564c-8309-21f858e9fb84")


def test_start_becomes_an_sms_opt_in() -> None:
    signal = sms_signals(parsed("Start"), "crm-0042")
    model = EngagementEvent.model_validate_json(json.dumps(signal.payload))
    assert (signal.name, model.kind) == ("engagement", "sms_opt_in")


def test_any_other_text_is_a_reply_by_sms() -> None:
    signal = sms_signals(parsed("Sounds good, call me Thursday"), "crm-0042")
    model = ReplyEvent.model_validate_json(json.dumps(signal.payload))
    assert (signal.name, model.channel, model.text) == ("reply", "sms", "Sounds good, call me Thursday")
    assert model.event_id == "sms:cae173d2-66b9-564c-8309-21f858e9fb84"


def test_a_redelivered_text_gets_the_same_event_id() -> None:
    message = inbound_sms("Sounds good")
    once = parse_inbound_sms(sns_envelope(message, message_id="11111111-1111-5111-8111-111111111111"))
    again = parse_inbound_sms(sns_envelope(message, message_id="22222222-2222-5222-8222-222222222222"))
    assert sms_signals(once, "crm-0042") == sms_signals(again, "crm-0042")


def test_distinct_texts_get_distinct_ids_and_long_ids_fit() -> None:
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    ids = [sms_signals(parsed(inbound_id=i), "crm-0042").payload["event_id"] for i in ("one", "two", long_a, long_b)]
    assert len(set(ids)) == 4
    assert all(len(i) <= EVENT_ID_MAX for i in ids)
    ReplyEvent.model_validate({"event_id": ids[2], "text": "x", "channel": "sms"})


# ---------------------------------------------------------------------- malformed


@pytest.mark.parametrize("field", ["originationNumber", "destinationNumber", "inboundMessageId", "messageBody"])
def test_a_text_missing_a_field_says_which(field: str) -> None:
    message = inbound_sms()
    del message[field]
    assert field in malformed(message)


@pytest.mark.parametrize("number", ["4255550182", "+04255550182", "+1 425 555 0182", "+1425555018299999", "tel:+14255550182", ""])
def test_a_sender_that_is_not_e164_is_malformed_and_not_echoed(number: str) -> None:
    says = malformed(inbound_sms(from_number=number))
    assert "originationNumber" in says
    if number:
        assert number not in says, "a phone number never goes into a log line"


def test_our_number_must_be_e164_or_a_short_code() -> None:
    assert "destinationNumber" in malformed(inbound_sms(to_number="our number"))


def test_a_body_that_is_not_text_is_malformed() -> None:
    message = inbound_sms()
    message["messageBody"] = None
    assert "messageBody" in malformed(message)


def test_an_empty_text_is_still_a_reply() -> None:
    assert parsed("").keyword is None


def test_bad_json_and_sns_housekeeping_are_malformed() -> None:
    assert "not JSON" in malformed("{")
    assert "confirm the subscription" in malformed(sns_subscription_confirmation())


# ------------------------------------------------------------------------ phone key


def test_the_phone_key_is_the_sha256_of_the_e164_number() -> None:
    key = phone_key("+14255550182")
    assert key == hashlib.sha256(b"+14255550182").hexdigest()
    assert len(key) == 64 and "4255550182" not in key
    assert phone_key("+14255550183") != key


@pytest.mark.parametrize("number", ["14255550182", "+1 425 555 0182", "(425) 555-0182", ""])
def test_the_phone_key_refuses_other_spellings(number: str) -> None:
    """One number, one key: a spelling that could hash differently is refused, not guessed."""
    with pytest.raises(ValueError, match="E.164"):
        phone_key(number)
