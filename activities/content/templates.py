"""Jinja2 templates for every touch: one file per step and channel, rendered block by block.

A step's `template` names a file without its suffix; the channel picks the suffix:
`.email.j2` (blocks subject, text, html), `.sms.j2` (text) and `.task.j2` (subject is
the task title, text the rep's instructions). Subject and text are rendered without
escaping and html with autoescape, so "Reyes & Sons" stays readable in plain text.
"""

import re
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError, UndefinedError
from markupsafe import Markup, escape
from pydantic import BaseModel

from activities.content.cadences import CadenceStore, touch_steps
from workflows.models import Channel

PACKAGED_DIR = Path(__file__).with_name("templates")
_KIND = {
    Channel.EMAIL: "email",
    Channel.SMS: "sms",
    Channel.CALL_TASK: "task",
    Channel.LINKEDIN_TASK: "task",
}
_BLOCKS = {"email": ("subject", "text", "html"), "sms": ("text",), "task": ("subject", "text")}


class TemplateRenderError(Exception):
    """A template is missing, does not compile, or needs a value the touch lacks."""


class RenderedMessage(BaseModel):
    subject: str | None
    text: str
    html: str | None


def template_file(template: str, channel: Channel) -> str:
    return f"{template}.{_KIND[channel]}.j2"


class TemplateRenderer:
    """Renders touches from `templates_dir` first, if given, then the packaged templates.

    Compiled templates are cached for the life of the renderer (no reload checks).
    """

    def __init__(self, templates_dir: Path | None = None) -> None:
        self._search = [templates_dir, PACKAGED_DIR] if templates_dir else [PACKAGED_DIR]
        loader = FileSystemLoader(self._search)
        self._text = _environment(loader, autoescape=False)
        self._html = _environment(loader, autoescape=True)

    def render(
        self, template: str, channel: Channel, context: Mapping[str, Any]
    ) -> RenderedMessage:
        file = template_file(template, channel)
        blocks = _BLOCKS[_KIND[channel]]
        rendered = self._blocks(self._text, file, [b for b in blocks if b != "html"], context)
        if "html" in blocks:
            rendered |= self._blocks(self._html, file, ["html"], context)
        for name in blocks:
            if name not in rendered:
                raise TemplateRenderError(
                    f"{file}: has no {{% block {name} %}}; "
                    f"a .{_KIND[channel]}.j2 template needs blocks {', '.join(blocks)}"
                )
            if not rendered[name].strip():
                raise TemplateRenderError(f"{file}: block {name!r} renders empty; give it content")
        subject, html = rendered.get("subject"), rendered.get("html")
        return RenderedMessage(
            # A subject or task title is one line, however the template wraps it.
            subject=" ".join(subject.split()) if subject is not None else None,
            text=_tidy(rendered["text"]),
            html=html.strip() if html is not None else None,
        )

    def check(self, store: CadenceStore) -> None:
        """Compile every template a cadence step uses, so a broken one stops the worker at start."""
        problems = []
        for cadence_id in store.ids():
            for step in touch_steps(store.get(cadence_id)):
                file = template_file(step.template, step.channel)
                try:
                    self._text.get_template(file)
                except Exception as err:
                    problems.append(
                        f"cadence {cadence_id!r} step {step.key!r} (template {step.template!r}): "
                        f"{self._explain(err, file)}"
                    )
        if problems:
            raise TemplateRenderError("\n".join(problems))

    def _blocks(
        self, env: Environment, file: str, names: list[str], variables: Mapping[str, Any]
    ) -> dict[str, str]:
        try:
            template = env.get_template(file)
            context = template.new_context(dict(variables))
            try:
                # One full pass registers every block of the {% extends %} chain in the context.
                for _ in template.root_render_func(context):
                    pass
                return {
                    name: "".join(context.blocks[name][0](context))
                    for name in names
                    if name in context.blocks
                }
            except Exception:
                # Re-raises with a traceback that points at template lines, not compiled code.
                env.handle_exception()
        except Exception as err:
            raise TemplateRenderError(self._explain(err, file)) from err

    def _explain(self, err: Exception, file: str) -> str:
        if isinstance(err, TemplateNotFound):
            searched = ", ".join(str(path) for path in self._search)
            if err.name == file:
                return (
                    f"template {file} not found in {searched}: "
                    "add the file or fix the step's 'template'"
                )
            return (
                f"template {err.name} not found in {searched}, needed by {file}: "
                f"add it or fix the name {file} extends, includes or imports"
            )
        if isinstance(err, TemplateSyntaxError):
            return f"{file}: syntax error at {err.name or file} line {err.lineno}: {err.message}"
        where = self._location(err) or file
        if isinstance(err, UndefinedError):
            return (
                f"{file}: undefined variable at {where}: {err}. Give data a lead may lack a "
                'fallback, e.g. {{ lead.first_name or "there" }}'
            )
        return f"{file}: {type(err).__name__} at {where}: {err}"

    def _location(self, err: Exception) -> str | None:
        """The innermost template line in the traceback, e.g. `x.email.j2 line 4: {{ x }}`."""
        for frame in reversed(traceback.extract_tb(err.__traceback__)):
            path = Path(frame.filename)
            for root in self._search:
                if path.is_relative_to(root):
                    source = f": {frame.line.strip()}" if frame.line else ""
                    return f"{path.relative_to(root).as_posix()} line {frame.lineno}{source}"
        return None


def _environment(loader: FileSystemLoader, *, autoescape: bool) -> Environment:
    env = Environment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["paragraphs"] = _paragraphs
    env.filters["link"] = _link if autoescape else _plain_link
    return env


def _link(value: str) -> Markup | str:
    """An http(s) URL the template names as a link: an <a> in html. Anything else stays
    (escaped) text, so a value that is not a URL never becomes one."""
    url = str(value)
    if not re.fullmatch(r"https?://[^\s<>\"']+", url):
        return url
    return Markup('<a href="{0}">{0}</a>').format(url)


def _plain_link(value: str) -> str:
    """The text part shows the URL itself."""
    return str(value)


def _paragraphs(value: str) -> Markup:
    """Plain text as HTML: blank lines separate <p>, single newlines become <br>."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", str(escape(value))) if p.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup(p.replace("\n", "<br>\n"))) for p in paragraphs
    )


def _tidy(text: str) -> str:
    """Drop trailing spaces and the blank lines that optional paragraphs leave behind."""
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return re.sub(r"\n{3,}", "\n\n", lines)
