"""Bounce and complaint notifications SES sends from the identity carry no tags: they are
matched to their send by SES message id through the send ledger, so a lead whose mail
bounced or was reported stops, even on an account without configuration-set events."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from tests.activities.inbound.ingest_queues import Queues, drain, fresh_queues
from tests.support.inbound_messages import LEAD_ID, MESSAGE_ID, SEND_KEY, ses_event, sns_envelope


@pytest.fixture
def queues(moto_endpoint, monkeypatch, tmp_path) -> Queues:
    queues = fresh_queues(moto_endpoint, monkeypatch, tmp_path)
    queues.ledger.mark_sent(SEND_KEY, MESSAGE_ID)  # what the SES transport records per send
    return queues


@pytest.mark.parametrize(("kind", "opt_out"), [("Bounce", "bounce"), ("Complaint", "complaint")])
async def test_an_untagged_notification_reaches_the_lead_of_its_send(queues, kind, opt_out):
    ingestor = queues.ingestor()
    queues.put("events", sns_envelope(ses_event(kind, notification=True)))
    await drain(ingestor, "events")

    (signal,) = queues.sent.signals
    assert (signal.lead_id, signal.name, signal.payload["kind"]) == (LEAD_ID, "delivery", opt_out)
    assert signal.payload["send_key"] == SEND_KEY
    assert queues.ledger.opt_out(LEAD_ID).reason == opt_out
    assert ingestor.stats["identity_notifications"] == 1 and ingestor.stats["not_ours"] == 0


async def test_a_notification_for_a_message_the_ledger_does_not_know_is_not_ours(queues):
    ingestor = queues.ingestor()
    queues.put("events", sns_envelope(ses_event("Bounce", notification=True, message_id="someone-elses-000000")))
    await drain(ingestor, "events")
    assert queues.sent.signals == [] and queues.ledger.opt_out(LEAD_ID) is None
    assert ingestor.stats["not_ours"] == 1


async def test_an_untagged_configuration_set_event_is_still_not_ours(queues):
    """Configuration-set events always carry our tags: one without is another sender's."""
    ingestor = queues.ingestor()
    untagged = ses_event("Bounce")
    del untagged["mail"]["tags"]
    queues.put("events", sns_envelope(untagged))
    await drain(ingestor, "events")
    assert queues.sent.signals == [] and ingestor.stats["not_ours"] == 1


async def test_the_same_bounce_as_event_and_as_notification_is_signalled_once(queues):
    ingestor = queues.ingestor()
    queues.put("events", sns_envelope(ses_event("Bounce")))
    queues.put("events", sns_envelope(ses_event("Bounce", notification=True)))
    await drain(ingestor, "events")
    assert len(queues.sent.signals) == 1 and ingestor.stats["duplicates"] == 1
    assert ingestor.stats["configuration_set_events"] == ingestor.stats["identity_notifications"] == 1


async def test_start_up_says_which_kinds_the_events_queue_takes(queues):
    stop = asyncio.Event()
    stop.set()
    with capture_logs() as logs:
        await queues.ingestor().run(stop)
    (line,) = [e["event"] for e in logs if "events queue takes" in e["event"]]
    assert "configuration-set events" in line and "identity notifications" in line
