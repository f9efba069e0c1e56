"""The public contract models (workflows/models.py): what other services send and read."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from workflows.models import (
    CadenceDefinition,
    CloseInput,
    DeliveryEvent,
    EngagementEvent,
    EnrollLead,
    Lead,
    LeadMemory,
    LeadState,
    Mode,
    Outcome,
    ReplyEvent,
    SnoozeInput,
    TransitionRecord,
    TriggerEvent,
)

# Copied verbatim from DESIGN.md, "The contract as JSON".
DESIGN_ENROLL_JSON = """
{"lead": {"id": "crm-0042", "email": "dana@acme.example", "first_name": "Dana",
          "last_name": "Reyes", "company": "Acme Freight", "timezone": "America/Chicago",
          "phone": "+13125550142", "owner": "rep-7", "segment": "logistics",
          "attributes": {"challenge": "manual dispatch"}},
 "mode": "follow_up",
 "context": {"trigger": "proposal_sent", "discovery_notes": "dispatch takes 3 people"},
 "follow_up_cadence": "follow-up", "nurture_cadence": "nurture", "speedup": 1}
"""

MINIMAL: dict[str, Any] = {"lead": {"id": "crm-0042", "email": "dana@acme.example"}, "mode": "nurture"}


def _errors(model: type[BaseModel], payload: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    return caught.value.errors()


def _only_error(model: type[BaseModel], payload: Any) -> dict[str, Any]:
    errors = _errors(model, payload)
    assert len(errors) == 1, errors
    return errors[0]


# ------------------------------------------------------------------ EnrollLead


def test_design_enroll_json_validates_as_is() -> None:
    enroll = EnrollLead.model_validate_json(DESIGN_ENROLL_JSON)
    assert enroll.lead.id == "crm-0042"
    assert enroll.lead.email == "dana@acme.example"
    assert (enroll.lead.first_name, enroll.lead.last_name, enroll.lead.company) == ("Dana", "Reyes", "Acme Freight")
    assert enroll.lead.timezone == "America/Chicago"
    assert enroll.lead.phone == "+13125550142"
    assert (enroll.lead.owner, enroll.lead.segment) == ("rep-7", "logistics")
    assert enroll.lead.attributes == {"challenge": "manual dispatch"}
    assert enroll.mode == "follow_up"
    assert enroll.context == {"trigger": "proposal_sent", "discovery_notes": "dispatch takes 3 people"}
    assert (enroll.follow_up_cadence, enroll.nurture_cadence, enroll.speedup) == ("follow-up", "nurture", 1)
    assert enroll.memory is None


def test_design_enroll_json_survives_a_json_round_trip() -> None:
    enroll = EnrollLead.model_validate_json(DESIGN_ENROLL_JSON)
    assert EnrollLead.model_validate_json(enroll.model_dump_json()) == enroll


@pytest.mark.parametrize("as_json", [False, True])
def test_minimal_enroll_gets_the_defaults(as_json: bool) -> None:
    enroll = (
        EnrollLead.model_validate_json(json.dumps(MINIMAL)) if as_json else EnrollLead.model_validate(MINIMAL)
    )
    assert enroll.mode == "nurture"
    assert enroll.follow_up_cadence == "follow-up"
    assert enroll.nurture_cadence == "nurture"
    assert enroll.speedup == 1
    assert enroll.context == {}
    assert enroll.lead.timezone is None
    assert enroll.lead.phone is None
    assert enroll.lead.sms_consent is False
    assert enroll.lead.attributes == {}


@pytest.mark.parametrize("missing", ["lead", "mode"])
def test_enroll_without_a_required_field_names_it(missing: str) -> None:
    payload = {k: v for k, v in MINIMAL.items() if k != missing}
    error = _only_error(EnrollLead, payload)
    assert (error["loc"], error["type"]) == ((missing,), "missing")


@pytest.mark.parametrize("missing", ["id", "email"])
def test_lead_without_id_or_email_names_it(missing: str) -> None:
    payload = copy.deepcopy(MINIMAL)
    del payload["lead"][missing]
    error = _only_error(EnrollLead, payload)
    assert (error["loc"], error["type"]) == (("lead", missing), "missing")


@pytest.mark.parametrize("lead_id", ["a", "crm-0042", "CRM_42.v2", "x" * 64])
def test_valid_lead_ids(lead_id: str) -> None:
    payload = copy.deepcopy(MINIMAL)
    payload["lead"]["id"] = lead_id
    assert EnrollLead.model_validate(payload).lead.id == lead_id


def _with(path: str, value: Any) -> dict[str, Any]:
    """MINIMAL with one dotted field set (e.g. 'lead.phone')."""
    payload = copy.deepcopy(MINIMAL)
    target = payload
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    target[last] = value
    return payload


@pytest.mark.parametrize(
    ("path", "value", "fragments"),
    [
        ("lead.id", "crm 0042", ["lead id 'crm 0042'", "1-64 characters", "letters, digits", "workflow id"]),
        ("lead.id", "x" * 65, ["must be 1-64 characters", "map other CRM ids to such a key"]),
        ("lead.id", "", ["must be 1-64 characters"]),
        ("lead.id", "crm/42", ["must be 1-64 characters"]),
        ("lead.email", "dana-at-acme.example", ["not a valid email address", "@-sign"]),
        ("lead.email", "dana@acme", ["not a valid email address", "period"]),
        ("lead.timezone", "Mars/Olympus", ["unknown time zone 'Mars/Olympus'", "IANA name", "America/Chicago"]),
        ("lead.phone", "312-555-0142", ["phone '312-555-0142' is not an E.164 number", "country code", "+13125550142"]),
        ("lead.phone", "+1 312 555 0142", ["not an E.164 number"]),
        ("lead.phone", "+1555", ["phone '+1555' is not an E.164 number", "e.g. +13125550142"]),
        ("lead.phone", "+19995550142", ["phone '+19995550142' is not a valid number for its country code"]),
        ("mode", "hot", ["mode 'hot' is not a starting mode", "use 'follow_up' or 'nurture'"]),
        ("mode", "snoozed", ["mode 'snoozed' is not a starting mode", "use 'follow_up' or 'nurture'"]),
        ("speedup", 0, ["greater than or equal to 1"]),
        ("speedup", -5, ["greater than or equal to 1"]),
        ("follow_up_cadence", "Follow-Up", ["should match pattern", "[a-z0-9]"]),
        ("nurture_cadence", "NURTURE", ["should match pattern", "[a-z0-9]"]),
    ],
)
def test_bad_enroll_input_says_what_is_wrong_and_how_to_fix_it(path: str, value: Any, fragments: list[str]) -> None:
    error = _only_error(EnrollLead, _with(path, value))
    assert error["loc"] == tuple(path.split("."))
    for fragment in fragments:
        assert fragment in error["msg"]


@pytest.mark.parametrize(
    ("path", "loc"),
    [("lead.emial", ("lead", "emial")), ("speed_up", ("speed_up",)), ("lead_id", ("lead_id",))],
)
def test_unknown_fields_are_rejected_not_ignored(path: str, loc: tuple[str, ...]) -> None:
    error = _only_error(EnrollLead, _with(path, "x"))
    assert (error["loc"], error["type"]) == (loc, "extra_forbidden")
    assert error["msg"] == "Extra inputs are not permitted"


def test_every_problem_in_one_input_is_reported_together() -> None:
    payload = {"lead": {"id": "crm 42", "email": "nope", "timezone": "Mars/Olympus"}, "mode": "hot"}
    locs = {error["loc"] for error in _errors(EnrollLead, payload)}
    assert locs == {("lead", "id"), ("lead", "email"), ("lead", "timezone"), ("mode",)}


@pytest.mark.parametrize("zone", ["America/Chicago", "Europe/Berlin", "UTC", "Asia/Kolkata"])
def test_iana_time_zones_are_accepted(zone: str) -> None:
    assert EnrollLead.model_validate(_with("lead.timezone", zone)).lead.timezone == zone


@pytest.mark.parametrize("path", ["lead.timezone", "lead.phone"])
def test_empty_zone_or_phone_means_unknown(path: str) -> None:
    lead = EnrollLead.model_validate(_with(path, "")).lead
    assert getattr(lead, path.split(".")[1]) is None


@pytest.mark.parametrize("zone", ["America", "US"])
def test_a_zone_region_without_a_city_is_an_unknown_time_zone(zone: str) -> None:
    with pytest.raises(ValidationError, match=f"unknown time zone '{zone}'"):
        EnrollLead.model_validate(_with("lead.timezone", zone))


# ------------------------------------------------------------------ SnoozeInput


@pytest.mark.parametrize(
    ("payload", "fragments"),
    [
        ({}, ["snooze needs exactly one of months, weeks, days or until", "(got none)", '{"months": 3}']),
        ({"reason": "busy"}, ["(got none)"]),
        ({"months": 3, "days": 10}, ["exactly one", "(got months, days)"]),
        ({"weeks": 2, "until": "2027-03-01"}, ["exactly one", "(got weeks, until)"]),
        ({"months": 0}, ["snooze months must be at least 1 (got 0)"]),
        ({"weeks": -2}, ["snooze weeks must be at least 1 (got -2)"]),
        ({"days": -1}, ["snooze days must be at least 1 (got -1)"]),
    ],
)
def test_snooze_needs_exactly_one_positive_length(payload: dict[str, Any], fragments: list[str]) -> None:
    error = _only_error(SnoozeInput, payload)
    for fragment in fragments:
        assert fragment in error["msg"]


@pytest.mark.parametrize(
    ("payload", "field", "value"),
    [
        ({"months": 3}, "months", 3),
        ({"weeks": 6}, "weeks", 6),
        ({"days": 10}, "days", 10),
        ({"until": "2027-03-01"}, "until", date(2027, 3, 1)),
        ({"months": 3, "until": None, "reason": "budget in Q2"}, "months", 3),
    ],
)
def test_snooze_with_exactly_one_length_is_accepted(payload: dict[str, Any], field: str, value: Any) -> None:
    snooze = SnoozeInput.model_validate_json(json.dumps(payload))
    assert getattr(snooze, field) == value
    others = {"months", "weeks", "days", "until"} - {field}
    assert all(getattr(snooze, name) is None for name in others)


def test_snooze_until_a_datetime_with_a_time_is_rejected() -> None:
    error = _only_error(SnoozeInput, {"until": "2027-03-01T15:00:00Z"})
    assert error["loc"] == ("until",)
    assert "date" in error["msg"]


def test_snooze_typo_field_is_rejected() -> None:
    error = _only_error(SnoozeInput, {"month": 3})
    assert (error["loc"], error["type"]) == (("month",), "extra_forbidden")


# ------------------------------------------------------------------ CloseInput


@pytest.mark.parametrize("outcome", ["meeting_booked", "won", "lost", "unsubscribed", "disqualified"])
def test_close_with_each_human_outcome(outcome: str) -> None:
    close = CloseInput.model_validate({"outcome": outcome, "note": "n"})
    assert close.outcome == outcome
    assert Outcome(close.outcome).value == outcome


@pytest.mark.parametrize("outcome", ["cancelled", "bounced", "complained", "WON"])
def test_close_with_an_unknown_outcome_lists_the_allowed_ones(outcome: str) -> None:
    error = _only_error(CloseInput, {"outcome": outcome})
    assert error["loc"] == ("outcome",)
    for allowed in ("'meeting_booked'", "'won'", "'lost'", "'unsubscribed'", "'disqualified'"):
        assert allowed in error["msg"]


# ------------------------------------------------------------------ events

DESIGN_SIGNALS: list[tuple[type[BaseModel], str]] = [
    (
        ReplyEvent,
        '{"event_id": "ses-reply-1", "text": "Can we talk Tuesday?", '
        '"received_at": "2026-03-10T15:30:00Z", "channel": "sms"}',
    ),
    (
        EngagementEvent,
        '{"event_id": "ses-click-1", "kind": "click", "content_id": "case-study-similar-start", '
        '"url": "https://acme.example/cs", "at": "2026-03-10T15:30:00Z", "user_agent": "Mozilla/5.0"}',
    ),
    (
        DeliveryEvent,
        '{"event_id": "ses-bounce-1", "kind": "bounce", "permanent": true, "at": "2026-03-10T15:30:00Z"}',
    ),
    (TriggerEvent, '{"event_id": "crm-evt-9", "name": "funding_round", "note": "Series B announced"}'),
]


@pytest.mark.parametrize(("model", "raw"), DESIGN_SIGNALS, ids=["reply", "engagement", "delivery", "trigger"])
def test_design_signal_json_validates(model: type[BaseModel], raw: str) -> None:
    event = model.model_validate_json(raw)
    sent = json.loads(raw)
    for key, value in sent.items():
        got = getattr(event, key)
        if isinstance(got, datetime):
            assert got == datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
        else:
            assert got == value


@pytest.mark.parametrize(("model", "raw"), DESIGN_SIGNALS, ids=["reply", "engagement", "delivery", "trigger"])
def test_signal_without_event_id_is_rejected(model: type[BaseModel], raw: str) -> None:
    payload = json.loads(raw)
    del payload["event_id"]
    error = _only_error(model, payload)
    assert (error["loc"], error["type"]) == (("event_id",), "missing")


def test_signal_with_empty_event_id_is_rejected() -> None:
    error = _only_error(TriggerEvent, {"event_id": "", "name": "funding_round"})
    assert error["loc"] == ("event_id",)
    assert "at least 1 character" in error["msg"]


def test_engagement_kind_hover_is_rejected_listing_the_kinds() -> None:
    error = _only_error(EngagementEvent, {"event_id": "e-1", "kind": "hover"})
    assert error["loc"] == ("kind",)
    for kind in ("'open'", "'click'"):
        assert kind in error["msg"]


def test_event_defaults() -> None:
    reply = ReplyEvent.model_validate({"event_id": "r"})
    assert (reply.text, reply.channel, reply.intent) == ("", "email", None)
    assert EngagementEvent.model_validate({"event_id": "e", "kind": "open"}).automated is False
    assert DeliveryEvent.model_validate({"event_id": "d", "kind": "bounce"}).permanent is False


# ------------------------------------------------------------------ TransitionRecord / LeadState

AT = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def test_transition_record_serialises_with_from_and_to() -> None:
    record = TransitionRecord(from_mode=Mode.NURTURE, to_mode=Mode.FOLLOW_UP, reason="trigger: funding_round", at=AT)
    data = json.loads(record.model_dump_json())
    assert data == {"from": "nurture", "to": "follow_up", "reason": "trigger: funding_round", "at": "2026-03-10T15:30:00Z"}
    assert set(record.model_dump()) == {"from", "to", "reason", "at"}


def test_transition_record_parses_from_and_to() -> None:
    record = TransitionRecord.model_validate_json(
        '{"from": "follow_up", "to": "awaiting_rep", "reason": "human reply", "at": "2026-03-10T15:30:00Z"}'
    )
    assert (record.from_mode, record.to_mode, record.at) == (Mode.FOLLOW_UP, Mode.AWAITING_REP, AT)
    assert TransitionRecord.model_validate_json(record.model_dump_json()) == record


def _state() -> LeadState:
    return LeadState.model_validate(
        {
            "lead_id": "crm-0042",
            "mode": "follow_up",
            "cadence": "follow-up@v1",
            "step": "day-3-discovery-challenge",
            "next_touch_at": "2026-03-12T15:30:00Z",
            "next_touch": "day 3: challenge from discovery",
            "touches": [
                {
                    "step": "day-1-case-study",
                    "channel": "email",
                    "sent_at": "2026-03-10T15:30:00Z",
                    "cadence": "follow-up@v1",
                    "send_key": "crm-0042/1/day-1-case-study",
                }
            ],
            "touches_total": 1,
            "transitions": [{"from": "nurture", "to": "follow_up", "reason": "trigger: funding_round", "at": AT}],
            "open_tasks": [{"task_id": "t-1", "kind": "reply", "title": "answer", "created_at": AT}],
            "human_clicks": {"case-study-similar-start": 2},
            "rejected_events": [{"signal": "reply", "event_id": None, "error": "missing event_id", "at": AT}],
            "run": 3,
        }
    )


def test_lead_state_json_round_trip() -> None:
    state = _state()
    raw = state.model_dump_json()
    data = json.loads(raw)
    assert data["mode"] == "follow_up"
    assert data["transitions"][0]["from"] == "nurture"
    assert data["transitions"][0]["to"] == "follow_up"
    assert data["touches"][0]["status"] == "sent"
    back = LeadState.model_validate_json(raw)
    assert back == state
    assert back.transitions[0].from_mode == Mode.NURTURE
    assert back.touches[0].sent_at == AT


def test_enroll_with_engine_memory_round_trips_for_continue_as_new() -> None:
    cadence = CadenceDefinition.model_validate(
        {
            "id": "nurture",
            "version": 2,
            "mode": "nurture",
            "title": "Monthly nurture",
            "every_months": 1,
            "steps": [{"key": "insight", "channel": "email", "template": "nurture/insight", "purpose": "insight"}],
        }
    )
    memory = LeadMemory(state=_state(), nurture=cadence, step_index=2, nurture_rotation=7, seen_event_ids=["e-1"])
    enroll = EnrollLead.model_validate({**MINIMAL, "memory": memory.model_dump(mode="json")})
    back = EnrollLead.model_validate_json(enroll.model_dump_json())
    assert back == enroll
    assert back.memory is not None
    assert back.memory.nurture is not None
    assert back.memory.nurture.ref == "nurture@v2"
    assert (back.memory.step_index, back.memory.nurture_rotation) == (2, 7)


# ------------------------------------------------------------------ CadenceDefinition


def _step(key: str, day: int | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"key": key, "channel": "email", "template": f"t/{key}", "purpose": key}
    if day is not None:
        step["day"] = day
    return step


def _sequence(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "post-demo", "version": 1, "mode": "follow_up", "title": "Post demo", "steps": list(steps), **extra}


def test_a_valid_sequence_and_rotation() -> None:
    sequence = CadenceDefinition.model_validate(_sequence(_step("a", 0), _step("b", 2), _step("c", 9)))
    assert [s.day for s in sequence.steps] == [0, 2, 9]
    assert sequence.ref == "post-demo@v1"
    assert sequence.after_last_step == "nurture"
    rotation = CadenceDefinition.model_validate(_sequence(_step("a"), _step("b"), every_months=2, mode="nurture"))
    assert rotation.every_months == 2
    assert [s.day for s in rotation.steps] == [None, None]


@pytest.mark.parametrize(
    ("payload", "fragments"),
    [
        (
            _sequence(_step("a", 1), _step("b")),
            ["steps[1] (b): a sequence step needs 'day'", "every_months"],
        ),
        (
            _sequence(_step("a", 3), _step("b", 3)),
            ["steps[1] (b): day 3 must come after day 3"],
        ),
        (
            _sequence(_step("a", 1), _step("b", 5), _step("c", 4)),
            ["steps[2] (c): day 4 must come after day 5"],
        ),
        (
            _sequence(_step("a"), _step("b", 30), every_months=1),
            ["steps[1] (b): a rotation step has no 'day'", "every_months after the previous one"],
        ),
        (
            _sequence(_step("a", 1), _step("b", 2), _step("a", 3)),
            ["step keys must be unique: a repeated"],
        ),
        (
            _sequence(_step("x"), _step("y"), _step("x"), _step("y"), every_months=1),
            ["step keys must be unique: x, y repeated"],
        ),
    ],
)
def test_cadence_shape_rules_explain_the_problem(payload: dict[str, Any], fragments: list[str]) -> None:
    error = _only_error(CadenceDefinition, payload)
    for fragment in fragments:
        assert fragment in error["msg"]


def test_cadence_needs_at_least_one_step() -> None:
    error = _only_error(CadenceDefinition, _sequence())
    assert (error["loc"], error["type"]) == (("steps",), "too_short")


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "Post-Demo"), ("version", 0), ("every_months", 13), ("mode", "snoozed")],
)
def test_cadence_field_limits(field: str, value: Any) -> None:
    payload = _sequence(_step("a", 1), **{field: value})
    error = _only_error(CadenceDefinition, payload)
    assert error["loc"] == (field,)


@pytest.mark.parametrize("field", ["first_name", "last_name", "company"])
@pytest.mark.parametrize("text", ["Dana\r\nBcc: all@example.com", "Dana\nReyes", "Acme\x00", "Acme\u2028Freight"])
def test_names_must_be_one_line(field: str, text: str) -> None:
    with pytest.raises(ValidationError, match=f"{field} must be one line of text"):
        Lead.model_validate({"id": "crm-1", "email": "dana@acme.example", field: text})


def test_names_with_accents_and_inner_spaces_are_fine() -> None:
    lead = Lead.model_validate({"id": "crm-1", "email": "dana@acme.example", "first_name": "Zoë Anne", "company": "Café Ñ"})
    assert (lead.first_name, lead.company) == ("Zoë Anne", "Café Ñ")


def test_an_email_local_part_must_be_ascii_but_the_domain_need_not() -> None:
    with pytest.raises(ValidationError, match="before '@' must be ASCII"):
        Lead.model_validate({"id": "crm-1", "email": "zoë@acme.example"})
    assert Lead.model_validate({"id": "crm-1", "email": "dana@bücher.example"}).email


@pytest.mark.parametrize(
    ("model", "payload", "field"),
    [
        (TriggerEvent, {"event_id": "t-1", "name": "funding", "note": "x" * 2001}, "note"),
        (CloseInput, {"outcome": "won", "note": "x" * 2001}, "note"),
        (SnoozeInput, {"days": 3, "reason": "x" * 2001}, "reason"),
    ],
)
def test_free_text_from_callers_is_capped(model: type[BaseModel], payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field}\n  String should have at most 2000 characters"):
        model.model_validate(payload)


def test_the_deal_context_and_attributes_are_bounded() -> None:
    lead = {"id": "crm-1", "email": "dana@acme.example"}
    with pytest.raises(ValidationError, match="context is .* bytes as JSON; at most 32768"):
        EnrollLead.model_validate({"lead": lead, "mode": "nurture", "context": {"notes": "x" * 40_000}})
    with pytest.raises(ValidationError, match="at most 50"):
        Lead.model_validate(lead | {"attributes": {f"a{n}": n for n in range(51)}})
    with pytest.raises(ValidationError, match="texts at most 1000"):
        Lead.model_validate(lead | {"attributes": {"challenge": "x" * 1001}})
    assert EnrollLead.model_validate({"lead": lead, "mode": "nurture", "context": {"notes": "x" * 30_000}})


@pytest.mark.parametrize("field", ["owner", "segment"])
@pytest.mark.parametrize("value", ["dana@acme.example", "Dana Reyes", "o'brien & sons", "-rep"])
def test_owner_and_segment_are_ids_not_free_text(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=f"{field} must be an id"):
        Lead.model_validate({"id": "crm-1", "email": "dana@acme.example", field: value})


def test_owner_and_segment_take_the_ids_crms_use() -> None:
    lead = Lead.model_validate({"id": "crm-1", "email": "d@acme.example", "owner": "rep:7.a_b", "segment": "EMEA-ent"})
    assert (lead.owner, lead.segment) == ("rep:7.a_b", "EMEA-ent")
