"""Every packaged template renders for a full and a minimal lead, text stays unescaped,
and a broken template says which file and which variable."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from activities.content.cadences import PACKAGED_DIR as CADENCES_DIR
from activities.content.cadences import CadenceStore, touch_steps
from activities.content.config import ContentConfig
from activities.content.templates import RenderedMessage, TemplateRenderer, TemplateRenderError
from activities.content.touch import touch_context
from activities.registry import load_and_check
from workflows.models import Channel, EnrollLead, Lead, TouchInput

PACKAGED = CadenceStore()
EVERY_STEP = [
    (cadence_id, step.key)
    for cadence_id in PACKAGED.ids()
    for step in touch_steps(PACKAGED.get(cadence_id))
]
EMAIL_STEPS = [
    (cadence_id, step.key)
    for cadence_id in PACKAGED.ids()
    for step in touch_steps(PACKAGED.get(cadence_id))
    if step.channel == Channel.EMAIL
]


def render(
    renderer: TemplateRenderer, content: ContentConfig, touch: TouchInput
) -> RenderedMessage:
    return renderer.render(touch.step.template, touch.step.channel, touch_context(touch, content))


@pytest.mark.parametrize(("cadence_id", "step_key"), EVERY_STEP)
def test_every_step_renders_personalised_for_the_design_example(
    cadence_id: str,
    step_key: str,
    example: EnrollLead,
    renderer: TemplateRenderer,
    content: ContentConfig,
    make_touch: Callable[..., TouchInput],
) -> None:
    touch = make_touch(example.lead, cadence_id, step_key, context=example.context)
    message = render(renderer, content, touch)

    assert "Dana" in message.text
    if touch.step.channel == Channel.EMAIL:
        assert message.subject and message.html
        assert "Hi Dana," in message.text and "Hi Dana," in message.html
        # The body ends with who we are, where we are, and how to stop us.
        footer = message.text.splitlines()[-2:]
        assert footer[0] == f"{content.company_name}, {content.postal_address}"
        assert 'Reply "unsubscribe" and we\'ll stop.' in footer[1]
    elif touch.step.channel == Channel.SMS:
        assert len(message.text) < 320
        assert message.text.endswith("Reply STOP to opt out.")
    else:
        assert message.subject and "Dana Reyes" in message.subject
        assert "Acme Freight" in message.text and example.lead.phone in message.text


@pytest.mark.parametrize(("cadence_id", "step_key"), EVERY_STEP)
def test_every_step_renders_for_a_lead_with_only_id_and_email(
    cadence_id: str,
    step_key: str,
    minimal_lead: Lead,
    renderer: TemplateRenderer,
    content: ContentConfig,
    make_touch: Callable[..., TouchInput],
) -> None:
    touch = make_touch(minimal_lead, cadence_id, step_key)
    message = render(renderer, content, touch)

    # Missing data degrades to wording, never to "None" or a gap where a value was.
    for part in (message.subject or "", message.text):
        assert not re.search(r"\bNone\b", part)
        assert not re.search(r"\S  +\S|\s[,.]", part)
    if touch.step.channel == Channel.EMAIL:
        assert message.text.startswith("Hi there,")


def test_text_keeps_ampersands_and_html_escapes_them(
    renderer: TemplateRenderer, content: ContentConfig, make_touch: Callable[..., TouchInput]
) -> None:
    lead = Lead(
        id="crm-7", email="sam@reyes.example", first_name="Sam", company="Reyes & Sons <Ltd>"
    )
    message = render(renderer, content, make_touch(lead, "follow-up", "day-1-case-study"))

    assert "Reyes & Sons <Ltd>" in message.text
    assert "Reyes &amp; Sons &lt;Ltd&gt;" in message.html
    assert "Reyes & Sons" not in message.html


def test_sender_is_the_lead_owner_when_configured(
    example: EnrollLead, renderer: TemplateRenderer, make_touch: Callable[..., TouchInput]
) -> None:
    content = ContentConfig(
        owners={
            "rep-7": {
                "name": "Priya Shah",
                "title": "Account Executive",
                "email": "priya@harborview.example",
            }
        }
    )
    message = render(
        renderer, content, make_touch(example.lead, "follow-up", "day-7-yes-or-not-yet")
    )
    assert "Priya Shah\nAccount Executive, Harborview Operations Group" in message.text
    assert content.default_sender.name not in message.text


def write_template(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return root


def test_missing_variable_names_template_line_and_variable(
    tmp_path: Path, example: EnrollLead, content: ContentConfig
) -> None:
    templates = write_template(
        tmp_path,
        "custom/welcome.email.j2",
        '{% extends "_layouts/email.j2" %}\n{% block subject %}Hello{% endblock %}\n'
        "{% block body %}\nWelcome aboard,\n{{ lead.nickname }}\n{% endblock %}\n",
    )
    renderer = TemplateRenderer(templates)
    with pytest.raises(TemplateRenderError) as raised:
        renderer.render(
            "custom/welcome", Channel.EMAIL, {"lead": example.lead.model_dump(), "company": {}}
        )
    message = str(raised.value)
    assert message.startswith(
        "custom/welcome.email.j2: undefined variable at custom/welcome.email.j2 line 5"
    )
    assert "nickname" in message


def test_missing_template_names_the_file(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError, match=r"template follow-up/nope\.sms\.j2 not found"):
        renderer.render("follow-up/nope", Channel.SMS, {})


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    renderer = TemplateRenderer(write_template(tmp_path, "x/bad.sms.j2", "line one\n{% if %}\n"))
    with pytest.raises(
        TemplateRenderError, match=r"x/bad\.sms\.j2: syntax error at x/bad\.sms\.j2 line 2"
    ):
        renderer.render("x/bad", Channel.SMS, {})


def test_a_file_in_templates_dir_replaces_only_that_packaged_template(
    tmp_path: Path,
    example: EnrollLead,
    content: ContentConfig,
    make_touch: Callable[..., TouchInput],
) -> None:
    templates = write_template(
        tmp_path,
        "follow-up/case-study.email.j2",
        '{% extends "_layouts/email.j2" %}\n{% block subject %}Our own words{% endblock %}\n'
        "{% block body %}Our own case study.{% endblock %}\n",
    )
    renderer = TemplateRenderer(templates)
    replaced = render(renderer, content, make_touch(example.lead, "follow-up", "day-1-case-study"))
    packaged = render(
        renderer, content, make_touch(example.lead, "follow-up", "day-7-yes-or-not-yet")
    )
    assert replaced.subject == "Our own words"
    assert "Our own case study." in replaced.text and content.postal_address in replaced.text
    assert packaged.subject == "Yes, or not yet?"


def test_check_names_cadence_step_and_missing_template(
    tmp_path: Path, renderer: TemplateRenderer
) -> None:
    cadences = tmp_path / "cadences"
    cadences.mkdir()
    text = (
        (CADENCES_DIR / "dunning.toml")
        .read_text()
        .replace('"dunning/call"', '"dunning/phone-call"')
    )
    (cadences / "dunning.toml").write_text(text)
    with pytest.raises(TemplateRenderError) as raised:
        renderer.check(CadenceStore(cadences))
    assert str(raised.value).startswith(
        "cadence 'dunning' step 'day-10-call' (template 'dunning/phone-call'): "
        "template dunning/phone-call.task.j2 not found"
    )


def test_worker_start_rejects_a_template_that_needs_more_than_id_and_email(tmp_path: Path) -> None:
    templates = write_template(
        tmp_path,
        "nurture/insight.email.j2",
        '{% extends "_layouts/email.j2" %}\n'
        "{% block subject %}For {{ lead.company.upper() }}{% endblock %}\n"
        "{% block body %}Hi.{% endblock %}\n",
    )
    with pytest.raises(TemplateRenderError) as raised:
        load_and_check(ContentConfig(templates_dir=templates))
    assert "cadence 'nurture' step 'industry-insight' (template 'nurture/insight')" in str(
        raised.value
    )
    assert "nurture/insight.email.j2 line 2" in str(raised.value)


def test_packaged_cadences_and_templates_pass_the_worker_start_check() -> None:
    store, renderer = load_and_check(ContentConfig())
    assert store.ids() == ["dunning", "follow-up", "nurture", "re-engage"]


@pytest.mark.parametrize(("cadence_id", "step_key"), EMAIL_STEPS)
def test_lead_and_deal_data_never_become_live_links_in_html(
    cadence_id: str,
    step_key: str,
    renderer: TemplateRenderer,
    content: ContentConfig,
    make_touch: Callable[..., TouchInput],
) -> None:
    """Mail from our domain must not carry a link a lead's record put there (a company
    named like a URL, an attribute holding one); only links the template marks are live."""
    lead = Lead(
        id="crm-1", email="dana@acme.example", first_name="Dana", company="evil.example/login",
        attributes={"challenge": "see https://evil.example/reset", "website": "www.evil.example"},
    )
    touch = make_touch(lead, cadence_id, step_key, context={"discovery_notes": "https://evil.example/notes"})
    message = render(renderer, content, touch)
    links = re.findall(r'href="([^"]*)"', message.html)
    assert all(url.startswith(content.company_url) for url in links), links


def test_a_template_marked_link_is_live_and_a_non_url_stays_text(
    renderer: TemplateRenderer, content: ContentConfig, make_touch: Callable[..., TouchInput]
) -> None:
    lead = Lead(id="crm-1", email="dana@acme.example", first_name="Dana")
    ours = make_touch(lead, "follow-up", "day-1-case-study", context={"case_study_url": "https://harborview.example/cs/1"})
    assert '<a href="https://harborview.example/cs/1">' in render(renderer, content, ours).html
    odd = make_touch(lead, "follow-up", "day-1-case-study", context={"case_study_url": "javascript:alert(1)"})
    html = render(renderer, content, odd).html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
