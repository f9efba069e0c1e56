"""A message that breaks its parsing is dead-lettered with the reason, alone: the rest of
its batch is judged and signalled as if it had not been there."""

from __future__ import annotations

import json

import pytest

from tests.activities.inbound.ingest_queues import Queues, drain, fresh_queues
from tests.support.inbound_messages import ses_event, sns_envelope

# Deeper than any JSON parser's recursion limit.
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def queues(moto_endpoint, monkeypatch, tmp_path) -> Queues:
    return fresh_queues(moto_endpoint, monkeypatch, tmp_path)


async def test_deeply_nested_json_is_dead_lettered_and_its_batch_goes_on(queues):
    ingestor = queues.ingestor()
    queues.put("events", sns_envelope(ses_event("Delivery", message_id="m-before")))
    queues.put("events", sns_envelope(DEEP))
    queues.put("events", sns_envelope(ses_event("Click", message_id="m-after")))

    await drain(ingestor, "events")

    assert sorted(s.payload["event_id"].split(":")[1] for s in queues.sent.signals) == ["m-after", "m-before"]
    (reason,) = queues.reasons()
    assert reason.startswith("unreadable events message: ") and "nested too deeply" in reason
    assert queues.left("events") == 0
    assert ingestor.stats["dead_lettered"] == 1 and ingestor.stats["poll_errors"] == 0


async def test_a_poison_body_that_is_not_in_an_envelope_is_dead_lettered_too(queues):
    ingestor = queues.ingestor()
    for kind in ("events", "replies", "sms"):
        queues.put(kind, DEEP)
        await drain(ingestor, kind)
        assert queues.left(kind) == 0, kind
    reasons = queues.reasons()
    assert len(reasons) == 3 and all("nested too deeply" in r for r in reasons), reasons


async def test_a_failing_pre_pass_dead_letters_that_message_alone(queues, monkeypatch):
    """Whatever breaks while a batch is looked over before judging stays with its message."""
    ingestor = queues.ingestor()
    poison = sns_envelope(ses_event("Click", message_id="m-poison"))
    noted = ingestor._judge.note_click

    def note_click(body: str) -> None:
        if "m-poison" in body:
            raise KeyError("link")
        noted(body)

    monkeypatch.setattr(ingestor._judge, "note_click", note_click)
    queues.put("events", poison)
    queues.put("events", sns_envelope(ses_event("Delivery", message_id="m-fine")))
    await drain(ingestor, "events")

    assert [s.payload["event_id"] for s in queues.sent.signals] == ["ses:m-fine:delivery"]
    (dead,) = queues.dead_letters()
    assert dead["Body"] == poison
    assert "KeyError" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert queues.left("events") == 0


def test_the_poison_really_is_too_deep_for_json():
    try:
        json.loads(DEEP)
    except RecursionError:
        return
    raise AssertionError("json parsed DEEP: make it deeper")
