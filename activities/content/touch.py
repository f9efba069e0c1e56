"""What every touch activity shares: the variables templates see, rendering, and log binding."""

from typing import Any

from temporalio.exceptions import ApplicationError

from activities.content.cadences import CadenceStore, touch_steps
from activities.content.config import ContentConfig
from activities.content.templates import RenderedMessage, TemplateRenderer, TemplateRenderError
from workflows import names
from workflows.models import Channel, Lead, TouchInput


class _FreeForm(dict[str, Any]):
    """A map whose absent keys read as None.

    Deal context and lead attributes differ from caller to caller, so templates must
    treat every key as optional anyway: `{{ context.trigger or "our conversation" }}`.
    Everything else stays strict, so a misspelt `lead.frist_name` is still an error.
    """

    def __missing__(self, key: str) -> None:
        return None


def _free_form(values: dict[str, Any]) -> _FreeForm:
    return _FreeForm({k: _free_form(v) if isinstance(v, dict) else v for k, v in values.items()})


def touch_context(touch: TouchInput, config: ContentConfig) -> dict[str, Any]:
    """Every variable a touch template sees. The sender is the lead's owner, else the default."""
    lead = touch.lead.model_dump(mode="json")
    lead["attributes"] = _free_form(lead["attributes"])
    return {
        "lead": lead,
        "context": _free_form(touch.context),
        "sender": config.sender_for(touch.lead.owner).model_dump(mode="json"),
        "company": {
            "name": config.company_name,
            "url": config.company_url,
            "postal_address": config.postal_address,
        },
        "step": {"key": touch.step.key, "purpose": touch.step.purpose},
    }


def render_touch(
    renderer: TemplateRenderer, config: ContentConfig, touch: TouchInput, channel: Channel
) -> RenderedMessage:
    try:
        return renderer.render(touch.step.template, channel, touch_context(touch, config))
    except TemplateRenderError as err:
        # A retry renders the same template again: the workflow pauses the lead instead.
        raise ApplicationError(str(err), type=names.TEMPLATE_ERROR, non_retryable=True) from err


def rehearse(store: CadenceStore, renderer: TemplateRenderer, config: ContentConfig) -> None:
    """Render every step for a lead that has only an id and an email, the least callers send.

    A template that needs more would pause every such lead; better to stop the worker.
    """
    lead = Lead(id="rehearsal", email="rehearsal@example.com")
    problems = []
    for cadence_id in store.ids():
        cadence = store.get(cadence_id)
        for step in touch_steps(cadence):
            touch = TouchInput(
                send_key="rehearsal", lead=lead, cadence=cadence.ref, mode=cadence.mode, step=step
            )
            try:
                renderer.render(step.template, step.channel, touch_context(touch, config))
            except TemplateRenderError as err:
                problems.append(
                    f"cadence {cadence_id!r} step {step.key!r} (template {step.template!r}), "
                    f"rendered for a lead with only id and email: {err}"
                )
    if problems:
        raise TemplateRenderError("\n".join(problems))
