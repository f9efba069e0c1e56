"""The published JSON Schemas of LeadWorkflow's contract, one file per message.

Services in other languages build their JSON against these files, so they are
generated from the pydantic models (never written by hand) and a unit test keeps the
committed copies in `deploy/schema/` equal to what the models generate now.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from workflows import names
from workflows.models import (
    CloseInput,
    CompleteTaskInput,
    DeliveryEvent,
    EngagementEvent,
    EnrollLead,
    LeadState,
    MoveInput,
    PauseInput,
    ReplyEvent,
    ResumeInput,
    SnoozeInput,
    TriggerEvent,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# File name -> (model, whether it is sent to the workflow or read from it).
CONTRACT: dict[str, tuple[type[BaseModel], Literal["validation", "serialization"]]] = {
    f"workflow.{names.WORKFLOW_TYPE}.input.json": (EnrollLead, "validation"),
    "signal.reply.json": (ReplyEvent, "validation"),
    "signal.engagement.json": (EngagementEvent, "validation"),
    "signal.delivery.json": (DeliveryEvent, "validation"),
    "signal.trigger.json": (TriggerEvent, "validation"),
    "update.snooze.json": (SnoozeInput, "validation"),
    "update.pause.json": (PauseInput, "validation"),
    "update.resume.json": (ResumeInput, "validation"),
    "update.move.json": (MoveInput, "validation"),
    "update.close.json": (CloseInput, "validation"),
    "update.complete_task.json": (CompleteTaskInput, "validation"),
    # What the `state` query and every update return.
    "query.state.result.json": (LeadState, "serialization"),
}


def contract_schemas() -> dict[str, str]:
    """File name -> schema text, byte for byte what `touchpoint schema` writes."""
    return {name: _render(model.model_json_schema(mode=mode)) for name, (model, mode) in CONTRACT.items()}


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in contract_schemas().items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _render(schema: dict[str, Any]) -> str:
    # Pydantic generates draft 2020-12; saying so lets any validator pick the right rules.
    return json.dumps({"$schema": DIALECT, **schema}, indent=2, ensure_ascii=False) + "\n"
