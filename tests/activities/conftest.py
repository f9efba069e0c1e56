"""Shared fixtures: the DESIGN.md example lead, a minimal lead, and outboxes in tmp_path."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from activities.content.cadences import CadenceStore, touch_steps
from activities.content.config import ContentConfig
from activities.content.templates import TemplateRenderer
from activities.delivery.config import DeliveryConfig
from workflows.models import EnrollLead, Lead, TouchInput

# The enrollment from DESIGN.md, as another service would send it.
DESIGN_EXAMPLE = {
    "lead": {
        "id": "crm-0042",
        "email": "dana@acme.example",
        "first_name": "Dana",
        "last_name": "Reyes",
        "company": "Acme Freight",
        "timezone": "America/Chicago",
        "phone": "+13125550142",
        "owner": "rep-7",
        "segment": "logistics",
        "attributes": {"challenge": "manual dispatch"},
    },
    "mode": "follow_up",
    "context": {"trigger": "proposal_sent", "discovery_notes": "dispatch takes 3 people"},
    "follow_up_cadence": "follow-up",
    "nurture_cadence": "nurture",
    "speedup": 1,
}


@pytest.fixture
def example() -> EnrollLead:
    return EnrollLead.model_validate(DESIGN_EXAMPLE)


@pytest.fixture
def minimal_lead() -> Lead:
    return Lead(id="crm-0001", email="someone@example.com")


@pytest.fixture
def config(tmp_path: Path) -> DeliveryConfig:
    return DeliveryConfig(
        outbox_dir=tmp_path / "outbox",
        sms_outbox_file=tmp_path / "sms-outbox.jsonl",
        tasks_file=tmp_path / "rep-tasks.jsonl",
    )


@pytest.fixture
def content() -> ContentConfig:
    return ContentConfig()


@pytest.fixture(scope="session")
def store() -> CadenceStore:
    return CadenceStore()


@pytest.fixture(scope="session")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


@pytest.fixture
def make_touch(store: CadenceStore) -> Callable[..., TouchInput]:
    """A touch for a packaged cadence step, as the workflow would build it."""

    def make(
        lead: Lead,
        cadence_id: str,
        step_key: str,
        *,
        context: dict[str, Any] | None = None,
        send_key: str | None = None,
    ) -> TouchInput:
        cadence = store.get(cadence_id)
        step = next(s for s in touch_steps(cadence) if s.key == step_key)
        return TouchInput(
            send_key=send_key or f"{lead.id}:{cadence.ref}:{step.key}",
            lead=lead,
            context=context or {},
            cadence=cadence.ref,
            mode=cadence.mode,
            step=step,
        )

    return make
