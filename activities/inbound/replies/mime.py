"""A received email as an `InboundEmail`: sender, recipients, thread ids, the headers
that mark automated mail, and the body as plain text.

Replies come as text/plain, format=flowed or HTML only; `strip` and `classify` read one
plain text, so an HTML body becomes text here, without the quoted history clients mark
up in it. A message that cannot be attributed to a sender is refused (ReplyParseError):
no lead could take it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

# Headers that mark automated mail, as `InboundEmail.auto_headers` keys.
AUTO_HEADERS = (
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "precedence",
    "x-auto-response-suppress",
    "list-id",
)


class ReplyParseError(ValueError):
    """The bytes are not an email message that can be attributed to a sender."""


@dataclass(frozen=True)
class InboundEmail:
    message_id: str | None
    from_address: str
    recipients: tuple[str, ...]
    subject: str
    thread_ids: tuple[str, ...]
    date: datetime | None
    text: str
    auto_headers: dict[str, str]


def parse_email(raw: bytes) -> InboundEmail:
    """One received message. A message without a body is valid (text ""): a reply can be
    all subject ("Unsubscribe") or an auto-reply with headers only. What cannot be
    attributed to a sender raises ReplyParseError, saying why."""
    if not isinstance(raw, (bytes, bytearray)):
        raise ReplyParseError(f"expected the raw message as bytes, got {type(raw).__name__}")
    if not raw.strip():
        raise ReplyParseError("empty message")
    message = BytesParser(policy=policy.default).parsebytes(bytes(raw))
    if not message.keys():
        raise ReplyParseError("not a MIME message: no headers")
    if "From" not in message:
        raise ReplyParseError("no From header")
    senders = _addresses(message, "From")
    if not senders:
        raise ReplyParseError("no sender address in the From header")
    recipients: list[str] = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        for address in _addresses(message, name):
            if address.lower() not in (seen.lower() for seen in recipients):
                recipients.append(address)
    return InboundEmail(
        message_id=_message_id(_header(message, "Message-ID")),
        from_address=senders[0],
        recipients=tuple(recipients),
        subject=" ".join(_header(message, "Subject").split()),
        thread_ids=_thread_ids(message),
        date=_date(message),
        text=_body_text(message),
        auto_headers={
            name: " ".join(_header(message, name).split()) for name in AUTO_HEADERS if name in message
        },
    )


def _header(message: EmailMessage, name: str) -> str:
    """The decoded header, or "" when absent or beyond repair."""
    try:
        value = message.get(name)
    except (HeaderParseError, ValueError, IndexError):
        return ""
    return "" if value is None else str(value)


def _addresses(message: EmailMessage, name: str) -> list[str]:
    found: list[str] = []
    try:
        values = message.get_all(name) or []
    except (HeaderParseError, ValueError, IndexError):
        return found
    for value in values:
        try:
            specs = [address.addr_spec for address in value.addresses]
        except (AttributeError, HeaderParseError, ValueError, IndexError):
            # Delivered-To and X-Original-To are unstructured headers.
            specs = [spec for _, spec in getaddresses([str(value)])]
        for spec in specs:
            local, at, domain = spec.strip().strip("<>").rpartition("@")
            if at and local and domain:
                # Domains are case-insensitive; the local part is the receiving server's business.
                found.append(f"{local}@{domain.lower()}")
    return found


def _message_id(value: str) -> str | None:
    match = re.search(r"<([^<>\s]+)>", value)
    text = match.group(1) if match else value.strip()
    return text or None


def _thread_ids(message: EmailMessage) -> tuple[str, ...]:
    ids: list[str] = []
    for name in ("In-Reply-To", "References"):
        for value in message.get_all(name) or []:
            text = str(value)
            for item in re.findall(r"<([^<>\s]+)>", text) or text.split():
                if item not in ids:
                    ids.append(item)
    return tuple(ids)


def _date(message: EmailMessage) -> datetime | None:
    value = _header(message, "Date")
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_subtype() == "html":
        return _html_to_text(content)
    if str(part.get_param("format", "")).lower() == "flowed":
        content = _unflow(content, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return content.strip("\n")


def _unflow(text: str, *, delsp: bool) -> str:
    """RFC 3676: a line ending in a space goes on with the next line of the same quote depth."""
    out: list[str] = []
    joining = False
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        if joining and depth == len(out[-1]) - len(out[-1].lstrip(">")):
            out[-1] += line[depth:].lstrip(" ") if depth else line
        else:
            out.append(line)
        joining = out[-1].endswith(" ") and out[-1].rstrip(">").strip() != "--"
        if joining and delsp:
            out[-1] = out[-1][:-1]
    return "\n".join(out)


# ------------------------------------------------------------------------- HTML to text

_VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}
_BLOCK = {
    "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "pre", "section", "article", "header", "footer", "dd", "dt", "address", "center",
}
_INVISIBLE = {"style", "script", "head", "title", "template", "xml"}
# Containers that hold quoted history or a marked signature (Gmail, Yahoo, Thunderbird,
# Proton, Zoho); Apple Mail and most others use <blockquote>.
_QUOTE_CLASSES = (
    "gmail_quote", "gmail_signature", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote", "zmail_extra",
)
# Everything after these is history: Outlook's reply header and its "append on send" mark.
_HISTORY_IDS = {"divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container", "stopspelling"}
_OUTLOOK_HEADER_STYLE = re.compile(r"border-top:\s*solid\s+#(?:E1E1E1|B5C4DF)", re.IGNORECASE)


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_tag: str | None = None  # the root of a skipped subtree (quoted history, <style>)
        self.skip_depth = 0
        self.done = False
        self.pre = 0
        # Word's <p class="MsoNormal"> is one line; its blank lines are explicit paragraphs.
        self.paragraph_is_line: list[bool] = []

    def _line_break(self, *, blank: bool = False) -> None:
        if not "".join(self.parts[-2:]).endswith("\n"):
            self.parts.append("\n")
        if blank and not "".join(self.parts[-2:]).endswith("\n\n"):
            self.parts.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if self.skip_tag is not None:
            self.skip_depth += tag == self.skip_tag and tag not in _VOID
            return
        attributes = {name: value or "" for name, value in attrs}
        classes = attributes.get("class", "").lower().split()
        if (
            attributes.get("id", "").lower() in _HISTORY_IDS
            or "outlookmessageheader" in classes
            or _OUTLOOK_HEADER_STYLE.search(attributes.get("style", ""))
        ):
            self.done = True
        elif tag in _INVISIBLE or tag == "blockquote" or any(c.startswith(_QUOTE_CLASSES) for c in classes):
            if tag not in _VOID:
                self.skip_tag, self.skip_depth = tag, 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self._line_break()
            self.parts.append("- ")
        elif tag == "p":
            self.paragraph_is_line.append("msonormal" in classes)
            self._line_break(blank=bool(self.parts) and not self.paragraph_is_line[-1])
        elif tag in _BLOCK:
            self._line_break()
        self.pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth <= 0:
                    self.skip_tag = None
            return
        if tag == "p":
            self._line_break(blank=not (self.paragraph_is_line and self.paragraph_is_line.pop()))
        elif tag in _BLOCK or tag == "li":
            self._line_break()
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data: str) -> None:
        if self.done or self.skip_tag is not None:
            return
        if self.pre:
            self.parts.append(data)
            return
        text = re.sub(r"\s+", " ", data)
        if text == " " and (not self.parts or self.parts[-1].endswith("\n")):
            return  # the indentation between tags
        self.parts.append(text)


def _html_to_text(markup: str) -> str:
    """Readable text of an HTML body without the quoted history that clients mark up
    (Gmail's gmail_quote, Apple's and Thunderbird's blockquote, Outlook's divRplyFwdMsg)."""
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
