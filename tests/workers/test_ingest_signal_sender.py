"""SignalSender, the ingest consumer's `send`: each signal through the client method of its
name, the client's refusals raised as the consumer's own exceptions."""

from __future__ import annotations

from typing import Any

import pytest

from activities.inbound.consumer import ClosedLead, InvalidSignal, NoSuchLead
from activities.inbound.ses_events import Signal
from starter.errors import InvalidInput, LeadClosed, LeadNotFound, TemporalUnavailable
from workers.ingest import SignalSender

SIGNAL = Signal("crm-0042", "delivery", {"event_id": "ses:m-1:delivery", "kind": "delivered"})


class Client:
    """TouchpointClient's `delivery` signal: records it, or raises `error`."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def delivery(self, lead_id: str, payload: dict[str, Any]) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((lead_id, payload))


async def test_a_signal_goes_through_the_client_method_of_its_name() -> None:
    client = Client()
    await SignalSender(client)(SIGNAL)
    assert client.sent == [("crm-0042", SIGNAL.payload)]


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (LeadNotFound("crm-0042"), NoSuchLead),
        (LeadClosed("crm-0042", outcome="unsubscribed"), ClosedLead),
        (InvalidInput("invalid DeliveryEvent: kind: Input should be 'delivered'"), InvalidSignal),
    ],
)
async def test_the_clients_refusals_become_the_consumers(error: Exception, raised: type[Exception]) -> None:
    with pytest.raises(raised) as caught:
        await SignalSender(Client(error))(SIGNAL)
    # The dead-letter reason quotes the message; the cause keeps the client's error.
    assert str(caught.value) == str(error) and caught.value.__cause__ is error


async def test_any_other_failure_passes_through_to_be_retried() -> None:
    with pytest.raises(TemporalUnavailable):
        await SignalSender(Client(TemporalUnavailable("127.0.0.1:7233")))(SIGNAL)
