"""SES events as SNS delivers them: each reaches its lead as the right signal, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from activities.common.ses_tags import tag_value
from activities.inbound.ses_events import MalformedEvent, SesEvent, parse_ses_event, unwrap_sns
from tests.support.inbound_messages import (
    DROP,
    LEAD_ID,
    MESSAGE_ID,
    SEND_KEY,
    SENT_AT,
    STEP_KEY,
    ses_event,
    ses_time,
    sns_envelope,
    sns_subscription_confirmation,
)
from workflows.models import EVENT_ID_MAX, DeliveryEvent, EngagementEvent, ReplyEvent

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ses_events"
MODELS: dict[str, type[BaseModel]] = {"reply": ReplyEvent, "engagement": EngagementEvent, "delivery": DeliveryEvent}

# fixture → (eventType, signal, kind, opt-out reason)
EXPECTED: dict[str, tuple[str, str | None, str | None, str | None]] = {
    "send": ("Send", None, None, None),
    "delivery": ("Delivery", "delivery", "delivered", None),
    "bounce": ("Bounce", "delivery", "bounce", "bounce"),
    "complaint": ("Complaint", "delivery", "complaint", "complaint"),
    "reject": ("Reject", "delivery", "rejected", None),
    "open": ("Open", "engagement", "open", None),
    "click": ("Click", "engagement", "click", None),
    "rendering_failure": ("Rendering Failure", "delivery", "rendering_failure", None),
    "delivery_delay": ("DeliveryDelay", "delivery", "delayed", None),
    "subscription": ("Subscription", "engagement", "unsubscribe", "unsubscribe"),
}
EVENT_TYPES = [expected[0] for expected in EXPECTED.values()]


def parse(record: dict[str, Any]) -> SesEvent:
    return parse_ses_event(json.dumps(record))


def validated(event: SesEvent) -> BaseModel:
    """The signal's payload as the workflow will read it, after a JSON round trip."""
    assert event.signal is not None
    return MODELS[event.signal.name].model_validate_json(json.dumps(event.signal.payload))


def malformed(body: str) -> str:
    with pytest.raises(MalformedEvent) as raised:
        parse_ses_event(body)
    return str(raised.value)


# ------------------------------------------------------------------ documented shapes


@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("wrapping", ["json", "sns.json"])
def test_every_documented_event_maps_to_its_signal(name: str, wrapping: str) -> None:
    event = parse_ses_event((FIXTURES / f"{name}.{wrapping}").read_text())
    event_type, signal, kind, opt_out = EXPECTED[name]
    assert (event.event_type, event.message_id, event.lead_id) == (event_type, MESSAGE_ID, LEAD_ID)
    assert event.send_key == SEND_KEY
    assert event.opt_out_reason == opt_out
    if signal is None:
        assert event.signal is None
        return
    assert event.signal is not None
    assert (event.signal.lead_id, event.signal.name) == (LEAD_ID, signal)
    model = validated(event)
    assert model.kind == kind  # type: ignore[attr-defined]
    assert model.event_id.startswith(f"ses:{MESSAGE_ID}:")


@pytest.mark.parametrize("name", EXPECTED)
def test_a_raw_delivery_and_its_sns_envelope_give_the_same_event(name: str) -> None:
    raw = parse_ses_event((FIXTURES / f"{name}.json").read_text())
    assert parse_ses_event((FIXTURES / f"{name}.sns.json").read_text()) == raw


@pytest.mark.parametrize("name", EXPECTED)
def test_the_builder_makes_exactly_the_committed_fixture(name: str) -> None:
    """Integration tests build events with `ses_event`: it must stay the documented shape."""
    assert ses_event(EXPECTED[name][0]) == json.loads((FIXTURES / f"{name}.json").read_text())


# -------------------------------------------------------------------------- mappings


def test_a_send_only_tells_the_ledger_the_provider_message_id() -> None:
    event = parse(ses_event("Send"))
    assert event.signal is None and event.opt_out_reason is None
    assert (event.message_id, event.send_key) == (MESSAGE_ID, SEND_KEY)
    assert event.timestamp == event.mail_timestamp == SENT_AT.replace(microsecond=120_000)


def test_a_delivery_says_when_and_which_send() -> None:
    at = SENT_AT + timedelta(seconds=3)
    event = parse(ses_event("Delivery", at=at))
    model = validated(event)
    assert isinstance(model, DeliveryEvent)
    assert (model.kind, model.permanent, model.at, model.send_key) == ("delivered", False, at, SEND_KEY)
    assert event.timestamp == at and event.mail_timestamp == SENT_AT


def test_a_permanent_bounce_stops_for_good_and_opts_out() -> None:
    event = parse(ses_event("Bounce"))
    model = validated(event)
    assert isinstance(model, DeliveryEvent)
    assert (model.kind, model.permanent) == ("bounce", True)
    assert event.opt_out_reason == "bounce"


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_a_transient_or_undetermined_bounce_is_not_permanent(bounce_type: str) -> None:
    event = parse(ses_event("Bounce", bounce={"bounceType": bounce_type, "bounceSubType": "MailboxFull"}))
    model = validated(event)
    assert isinstance(model, DeliveryEvent)
    assert (model.kind, model.permanent) == ("bounce", False)
    assert event.opt_out_reason is None


def test_a_complaint_opts_the_lead_out() -> None:
    event = parse(ses_event("Complaint"))
    model = validated(event)
    assert isinstance(model, DeliveryEvent)
    assert model.kind == "complaint" and event.opt_out_reason == "complaint"


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [("Reject", "rejected"), ("Rendering Failure", "rendering_failure"), ("DeliveryDelay", "delayed")],
)
def test_rejects_rendering_failures_and_delays_are_delivery_signals(event_type: str, kind: str) -> None:
    event = parse(ses_event(event_type))
    model = validated(event)
    assert isinstance(model, DeliveryEvent)
    assert (model.kind, model.permanent, model.send_key) == (kind, False, SEND_KEY)
    assert event.opt_out_reason is None


def test_a_reject_or_rendering_failure_happens_when_the_message_was_sent() -> None:
    for event_type in ("Reject", "Rendering Failure"):
        event = parse(ses_event(event_type))
        assert event.timestamp == event.mail_timestamp


def test_a_delay_happens_at_its_own_timestamp() -> None:
    at = SENT_AT + timedelta(minutes=12)
    assert parse(ses_event("DeliveryDelay", at=at)).timestamp == at


def test_rendering_failure_is_read_by_either_name() -> None:
    renamed = ses_event("Rendering Failure", eventType="RenderingFailure")
    renamed["renderingFailure"] = renamed.pop("failure")
    model = validated(parse(renamed))
    assert model.kind == "rendering_failure"  # type: ignore[attr-defined]


def test_an_open_names_the_piece_the_agent_and_the_time() -> None:
    at = SENT_AT + timedelta(hours=1)
    event = parse(ses_event("Open", at=at, open={"userAgent": "Mozilla/5.0 (iPad)", "ipAddress": "203.0.113.9"}))
    model = validated(event)
    assert isinstance(model, EngagementEvent)
    assert (model.kind, model.content_id, model.at, model.user_agent) == ("open", STEP_KEY, at, "Mozilla/5.0 (iPad)")
    assert (event.user_agent, event.ip, event.link) == ("Mozilla/5.0 (iPad)", "203.0.113.9", None)


def test_a_click_names_the_piece_and_the_link_and_leaves_scanner_judgement_to_the_caller() -> None:
    link = "https://harborview.example/pricing?utm_source=touchpoint"
    event = parse(ses_event("Click", click={"link": link, "userAgent": "Barracuda Sentinel"}))
    model = validated(event)
    assert isinstance(model, EngagementEvent)
    assert (model.kind, model.content_id, model.url, model.automated) == ("click", STEP_KEY, link, False)
    assert (event.link, event.user_agent, event.ip) == (link, "Barracuda Sentinel", "198.51.100.23")


@pytest.mark.parametrize(
    "preferences",
    [
        {"unsubscribeAll": True},
        {"unsubscribeAll": False, "topicSubscriptionStatus": [{"topicName": "a", "subscriptionStatus": "OptOut"}]},
        {
            "topicSubscriptionStatus": [
                {"topicName": "a", "subscriptionStatus": "OptOut"},
                {"topicName": "b", "subscriptionStatus": "OptOut"},
            ]
        },
    ],
)
def test_unsubscribing_from_everything_is_an_unsubscribe(preferences: dict[str, Any]) -> None:
    record = ses_event("Subscription")
    record["subscription"]["newTopicPreferences"] = preferences
    event = parse(record)
    model = validated(event)
    assert isinstance(model, EngagementEvent)
    assert (model.kind, model.content_id) == ("unsubscribe", STEP_KEY)
    assert event.opt_out_reason == "unsubscribe"


@pytest.mark.parametrize(
    "preferences",
    [
        {"unsubscribeAll": False, "topicSubscriptionStatus": [{"topicName": "a", "subscriptionStatus": "OptIn"}]},
        {
            "unsubscribeAll": False,
            "topicSubscriptionStatus": [
                {"topicName": "a", "subscriptionStatus": "OptOut"},
                {"topicName": "b", "subscriptionStatus": "OptIn"},
            ],
        },
        {"unsubscribeAll": False, "topicSubscriptionStatus": []},
        {},
        None,
    ],
)
def test_a_subscription_change_that_keeps_a_topic_is_no_signal(preferences: dict[str, Any] | None) -> None:
    record = ses_event("Subscription")
    record["subscription"]["newTopicPreferences"] = preferences
    event = parse(record)
    assert event.signal is None and event.opt_out_reason is None


def test_the_older_notification_format_is_read_but_names_no_lead() -> None:
    """Identity notifications use notificationType and carry no tags: SES publishes none."""
    event = parse_ses_event((FIXTURES / "bounce_notification.sns.json").read_text())
    assert (event.event_type, event.message_id, event.lead_id, event.send_key) == ("Bounce", MESSAGE_ID, None, None)
    assert event.signal is None and event.opt_out_reason == "bounce"


def test_a_notification_with_our_tags_still_reaches_the_lead() -> None:
    record = ses_event("Delivery")
    record["notificationType"] = record.pop("eventType")
    assert validated(parse(record)).kind == "delivered"  # type: ignore[attr-defined]


def test_timestamps_with_an_offset_are_read_as_the_same_instant() -> None:
    event = parse(ses_event("Delivery", delivery={"timestamp": "2026-03-02T16:00:05+02:00"}))
    assert event.timestamp == datetime(2026, 3, 2, 14, 0, 5, tzinfo=UTC)
    assert validated(event).at == event.timestamp  # type: ignore[attr-defined]


# ---------------------------------------------------------------- not ours / tags


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_mail_without_our_tags_names_no_lead_and_sends_no_signal(event_type: str) -> None:
    event = parse(ses_event(event_type, lead_id=None))
    assert (event.lead_id, event.send_key, event.signal) == (None, None, None)
    assert event.message_id == MESSAGE_ID


def test_mail_without_any_tags_is_not_ours_rather_than_malformed() -> None:
    event = parse(ses_event("Bounce", mail={"tags": DROP}))
    assert (event.lead_id, event.signal) == (None, None)


def test_a_lead_id_with_escaped_characters_is_read_back() -> None:
    lead = "crm.0042_b"
    event = parse(ses_event("Click", lead_id=lead))
    assert event.lead_id == lead and event.send_key == f"{lead}:00001:{STEP_KEY}"
    assert validated(event).content_id == STEP_KEY  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "send_key",
    [None, "crm-0099:00001:day-1-case-study", "crm-0042:1:day-1-case-study", "garbage", "crm-0042:00001:Bad Step"],
)
def test_a_missing_or_foreign_send_key_still_reaches_the_lead_without_a_piece(send_key: str | None) -> None:
    event = parse(ses_event("Click", send_key=send_key))
    assert event.lead_id == LEAD_ID and event.send_key == send_key
    assert validated(event).content_id is None  # type: ignore[attr-defined]


def test_a_send_key_too_long_for_a_tag_is_unknown_but_the_bounce_still_arrives() -> None:
    record = ses_event("Bounce")
    record["mail"]["tags"]["send_key"] = [tag_value("x" * 300)]
    event = parse(record)
    assert event.send_key is None
    model = validated(event)
    assert isinstance(model, DeliveryEvent) and model.permanent and model.send_key is None


@pytest.mark.parametrize(
    ("tags", "says"),
    [
        (["lead_id", "crm-0042"], "mail.tags is a list"),
        ({"lead_id": "crm-0042"}, "mail.tags lead_id is not a list of strings"),
        ({"lead_id": [42]}, "mail.tags lead_id is not a list of strings"),
        ({"lead_id": ["crm-0042", "crm-0043"]}, "mail.tags lead_id has 2 different values"),
        ({"lead_id": ["crm_3A0042"]}, "does not decode to a lead id"),
        ({"lead_id": ["_-" + "0" * 64]}, "does not decode to a lead id"),
        ({"lead_id": ["crm-0042"], "send_key": "crm-0042:00001:x"}, "mail.tags send_key is not a list"),
    ],
)
def test_garbled_tags_are_malformed_and_say_which(tags: Any, says: str) -> None:
    assert says in malformed(json.dumps(ses_event("Delivery", mail={"tags": tags})))


def test_an_empty_lead_id_tag_list_is_no_tag() -> None:
    assert parse(ses_event("Delivery", mail={"tags": {"lead_id": []}})).lead_id is None


# ------------------------------------------------------------------------ malformed


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("", "the body is not JSON"),
        ("{not json", "the body is not JSON"),
        ("[1, 2]", "the body is a JSON list, not an object"),
        ('"Bounce"', "the body is a JSON str, not an object"),
        (json.dumps({"Type": "Notification", "TopicArn": "arn"}), "SNS envelope has no 'Message'"),
        (json.dumps({"Type": "Notification", "Message": {"eventType": "Send"}}), "not a JSON string"),
        (json.dumps({"Type": "Notification", "Message": "Hello from SNS"}), "the SNS message is not JSON"),
        (json.dumps({"Type": "UnsubscribeConfirmation", "TopicArn": "arn"}), "unsubscription"),
        (json.dumps({"Type": "Surprise"}), "unknown SNS message type 'Surprise'"),
    ],
)
def test_bodies_that_are_not_events_say_what_is_wrong(body: str, says: str) -> None:
    assert says in malformed(body)


def test_a_subscription_confirmation_tells_the_operator_to_confirm() -> None:
    says = malformed(sns_subscription_confirmation())
    assert "confirm the subscription" in says and "arn:aws:sns:us-east-1:123456789012:touchpoint-ses-events" in says
    assert "Token=" not in says, "the confirmation token is a credential: never in a log line"
    assert says == malformed((FIXTURES / "subscription_confirmation.sns.json").read_text())


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"eventType": DROP}, "SES event has no eventType"),
        ({"eventType": ""}, "SES event has no eventType"),
        ({"eventType": ["Bounce"]}, "SES event has no eventType"),
        ({"eventType": "Received"}, "unknown SES eventType 'Received'"),
        ({"eventType": "AmazonSnsSubscriptionSucceeded"}, "carries no event"),
        ({"mail": DROP}, "SES Bounce event has no mail object"),
        ({"mail": "EXAMPLE"}, "SES Bounce event has no mail object"),
        ({"mail": {"messageId": DROP}}, "SES Bounce event has no mail.messageId"),
        ({"mail": {"messageId": ""}}, "SES Bounce event has no mail.messageId"),
        ({"mail": {"timestamp": DROP}}, "no mail.timestamp"),
        ({"mail": {"timestamp": "yesterday"}}, "mail.timestamp 'yesterday' is not an ISO 8601 timestamp"),
        ({"mail": {"timestamp": 1722818462}}, "is not an ISO 8601 timestamp"),
        ({"mail": {"timestamp": "2026-03-02T14:00:00"}}, "has no time zone"),
        ({"bounce": DROP}, "SES Bounce event has no bounce object"),
        ({"bounce": {"timestamp": DROP}}, "no bounce.timestamp"),
        ({"bounce": {"timestamp": "2026-02-30T00:00:00Z"}}, "bounce.timestamp"),
    ],
)
def test_a_broken_event_is_malformed_and_says_what_is_missing(change: dict[str, Any], says: str) -> None:
    assert says in malformed(json.dumps(ses_event("Bounce", **change)))
    assert says in malformed(sns_envelope(ses_event("Bounce", **change)))


@pytest.mark.parametrize(
    ("event_type", "change", "says"),
    [
        ("Click", {"click": {"link": DROP}}, "SES Click event has no click.link"),
        ("Click", {"click": {"userAgent": 7}}, "click.userAgent is not a string (got int)"),
        ("Open", {"open": {"timestamp": "soon"}}, "open.timestamp 'soon'"),
        ("DeliveryDelay", {"deliveryDelay": DROP}, "has no deliveryDelay object"),
        ("Subscription", {"subscription": {"timestamp": DROP}}, "no subscription.timestamp"),
        ("Rendering Failure", {"failure": DROP}, "has no failure object"),
        ("Complaint", {"complaint": []}, "has no complaint object"),
    ],
)
def test_each_type_needs_its_own_object(event_type: str, change: dict[str, Any], says: str) -> None:
    assert says in malformed(json.dumps(ses_event(event_type, **change)))


def test_unwrap_sns_returns_a_raw_message_unchanged() -> None:
    record = ses_event("Open")
    assert unwrap_sns(json.dumps(record)) == record
    assert unwrap_sns(sns_envelope(record)) == record


# ------------------------------------------------------------------------- event ids


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_a_redelivered_event_gets_the_same_id(event_type: str) -> None:
    """SNS retries and SQS redelivers: a new envelope around the same event is the same event."""
    record = ses_event(event_type)
    first = parse_ses_event(sns_envelope(record, message_id="11111111-1111-5111-8111-111111111111"))
    again = parse_ses_event(sns_envelope(record, message_id="22222222-2222-5222-8222-222222222222"))
    assert first == again == parse(record)


def test_event_ids_read_as_documented() -> None:
    def event_id(event_type: str, **change: Any) -> str:
        event = parse(ses_event(event_type, **change))
        assert event.signal is not None
        return str(event.signal.payload["event_id"])

    base = f"ses:{MESSAGE_ID}"
    assert event_id("Delivery") == f"{base}:delivery"
    assert event_id("Reject") == f"{base}:reject"
    assert event_id("Rendering Failure") == f"{base}:render"
    assert event_id("Bounce", bounce={"feedbackId": "fb-1"}) == f"{base}:bounce:fb-1"
    assert event_id("Complaint", complaint={"feedbackId": "fb-2"}) == f"{base}:complaint:fb-2"
    at = datetime(2026, 3, 2, 15, 4, 5, 678_000, tzinfo=UTC)
    assert event_id("Open", at=at) == f"{base}:open:20260302T150405.678000Z"
    assert event_id("DeliveryDelay", at=at) == f"{base}:delay:20260302T150405.678000Z"
    assert event_id("Subscription", at=at) == f"{base}:subscription:20260302T150405.678000Z"
    assert event_id("Click", at=at).startswith(f"{base}:click:20260302T150405.678000Z:")


def test_several_events_of_one_message_get_distinct_ids() -> None:
    def event_id(record: dict[str, Any]) -> str:
        event = parse(record)
        assert event.signal is not None
        return str(event.signal.payload["event_id"])

    at = SENT_AT + timedelta(hours=1)
    ids = [
        event_id(ses_event("Bounce", bounce={"feedbackId": "fb-1", "bounceType": "Transient"})),
        event_id(ses_event("Bounce", bounce={"feedbackId": "fb-2", "bounceType": "Transient"})),
        event_id(ses_event("Open", at=at)),
        event_id(ses_event("Open", at=at + timedelta(milliseconds=1))),
        event_id(ses_event("Click", at=at, click={"link": "https://harborview.example/a"})),
        event_id(ses_event("Click", at=at, click={"link": "https://harborview.example/b"})),
        event_id(ses_event("Click", at=at + timedelta(seconds=1), click={"link": "https://harborview.example/a"})),
        event_id(ses_event("DeliveryDelay", at=at)),
        event_id(ses_event("DeliveryDelay", at=at + timedelta(minutes=30))),
        event_id(ses_event("Delivery")),
        event_id(ses_event("Delivery", message_id=MESSAGE_ID.replace("0", "1"))),
    ]
    assert len(set(ids)) == len(ids)


def test_a_bounce_without_feedback_id_is_told_apart_by_its_time() -> None:
    event = parse(ses_event("Bounce", bounce={"feedbackId": DROP}))
    assert event.signal is not None
    assert event.signal.payload["event_id"].startswith(f"ses:{MESSAGE_ID}:bounce:2026")


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_event_ids_fit_the_model_however_long_the_provider_ids(event_type: str) -> None:
    long_id = "0100019a7c2e4b1d-" + "f" * 400
    change = {"click": {"link": "https://x.example/" + "p" * 3000}} if event_type == "Click" else {}
    record = ses_event(event_type, message_id=long_id, **change)
    for section in ("bounce", "complaint"):
        if section in record:
            record[section]["feedbackId"] = "feedback-" + "9" * 500
    event = parse(record)
    if event.signal is None:
        return
    event_id = event.signal.payload["event_id"]
    assert len(event_id) <= EVENT_ID_MAX
    assert parse(record).signal.payload["event_id"] == event_id  # type: ignore[union-attr]
    other = parse(ses_event(event_type, message_id=long_id[:-1] + "e"))
    assert other.signal is not None and other.signal.payload["event_id"] != event_id
    validated(event)


def test_payloads_are_plain_json() -> None:
    for event_type in EVENT_TYPES:
        event = parse(ses_event(event_type))
        if event.signal is not None:
            assert json.loads(json.dumps(event.signal.payload)) == event.signal.payload


def test_the_payload_time_is_the_event_time_not_the_send_time() -> None:
    at = SENT_AT + timedelta(days=2, seconds=7)
    event = parse(ses_event("Click", at=at))
    assert event.signal is not None
    assert event.signal.payload["at"] == at.isoformat()
    assert ses_time(event.mail_timestamp) == ses_time(SENT_AT)


def test_a_content_id_tag_names_the_piece_a_click_counts_for() -> None:
    record = ses_event("Click")
    record["mail"]["tags"]["content_id"] = [tag_value("case-study-similar-start")]
    event = parse_ses_event(sns_envelope(record))
    assert event.signal is not None and event.signal.payload["content_id"] == "case-study-similar-start"
    # Without the tag, the step key names it.
    plain = parse_ses_event(sns_envelope(ses_event("Click")))
    assert plain.signal is not None and plain.signal.payload["content_id"] == "day-1-case-study"
