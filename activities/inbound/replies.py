"""Inbound email replies: parse the MIME, keep only the new text, and say what it means.

Pure functions over bytes and strings: no I/O, no clock (the lead's local `today` is
passed in), stdlib `email` and `html.parser` only. The ingestion consumer calls
`parse_email` → `strip_reply` → `classify` and signals the lead's workflow with the
result; whatever the rules cannot read with confidence comes back as intent None, and
the engine hands the reply to a rep.

Classification is a fixed set of phrase rules, so every decision is explained in one
line (`Classification.explanation`) and is the same on every run. When several rules
match, the first of these wins:

1. auto_reply: header `Auto-Submitted` (any value but "no"), `X-Autoreply`,
   `X-Autorespond` or `Precedence: auto_reply`; an out-of-office subject ("Automatic
   reply:", "Out of Office", "Abwesenheitsnotiz"…); or an out-of-office body in the
   present tense ("I am out of the office", "on annual leave", "limited access to
   email", "will respond when I return"). `Precedence: bulk/list`, `List-Id` and
   `X-Auto-Response-Suppress` alone are not enough: list mail and ordinary Outlook mail
   carry them too.
2. unsubscribe: "unsubscribe", "remove me", "stop emailing me", "take me off your list",
   "don't contact me again", "opt out", or a subject that says only that. "Don't contact
   me until March" is a deferral; "please don't unsubscribe me" is not a request.
3. not_now with a date: a deferral ("check back", "reach out", "try me again", "not
   until") or a not-now reason ("no budget", "locked into a contract") with a time in
   the same sentence or the one beside it. Weak cues count only in the same sentence
   and for a time at least two weeks ahead: "let's talk in January" and "not
   interested right now, maybe next year" defer, "let's talk Tuesday" schedules.
4. negative: "not interested", "went with another vendor", "no thanks", "please close
   this out", "decided not to move forward".
5. referral (intent None): "forwarding to Jim", "not the right person", "no longer with
   the company": a question in it is for someone else, so a rep reads it.
6. question, then positive: a question about the offer ("can you send pricing", "how
   does X work?") is a question; interest or agreeing to meet ("sounds interesting",
   "let's set up a call", "does Tuesday at 2 work?") is positive. Negated interest ("not
   sure we're interested"), interest hedged by a not-now reason in the same sentence
   ("interested in principle, but there's a hiring freeze") and questions about us
   rather than the offer ("who is this?", "how did you get my email?") do not count.
7. not_now without a date: the reason alone ("not a priority right now").
8. None: anything else ("Thanks", "Got it", ambiguous text): a human must read it.

Dates. A day without a year is the next one on or after `today`; a weekday is the next
one after today. A period resolves to its first day: the engine's send window moves a
touch off weekends and holidays, so nothing here shifts to business days. A deferral
that resolves to today or earlier names no date.

- "in 3 months", "in 2 weeks", "give it a couple of months" (2), "a few weeks" (3),
  "2-3 months" (the lower bound): today plus that, the day clamped to the month's end.
- "next week" / "next month" / "next quarter" / "next year": Monday / the 1st / the
  quarter's first day / Jan 1; "early / mid / late next year": Jan 1 / Jul 1 / Oct 1;
  "this time next year": today plus a year.
- "in January" / "mid-January" / "late (end of) January": Jan 1 / 15 / 21.
- "in the spring / summer / fall (autumn) / winter": Mar 1 / Jun 1 / Sep 1 / Dec 1
  (meteorological seasons, northern hemisphere).
- "Q3" / "end of Q3" / "after Q3": Jul 1 / Sep 1 / Oct 1. On 2026-11-23 Q3 2026 is over,
  so "after Q3" is 2027-10-01. Quarters are calendar quarters.
- "after January / the summer / 2027": the first day after that period.
- "end of the year": Dec 1; "end of the month": the 21st (tomorrow once those have
  passed).
- "in the new year": Jan 1; "after the holidays / Christmas / New Year": the first
  Monday after Jan 1; "after Thanksgiving": the Monday after US Thanksgiving.
- "in 2027", "not until 2027": Jan 1 2027.

Out-of-office return dates: "back on X", "returning X", "in the office on X" give X;
"until X", "through X" and "from … to X" give the day after X when X is a day ("away
until January 5th" → January 6): the first day they are surely back. Resuming a day late
costs nothing; resuming a day early earns another auto-reply. Numeric dates read month
first ("12/14") unless that is impossible ("14/12"); "14.12." reads day first.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email import policy
from email.errors import HeaderParseError
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Literal

# The same values as workflows.models.ReplyIntent (a test keeps them equal).
ReplyClass = Literal["positive", "question", "not_now", "negative", "unsubscribe", "auto_reply"]

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


@dataclass(frozen=True)
class Classification:
    intent: ReplyClass | None
    until: date | None
    explanation: str


# =============================================================================== parse


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


# =============================================================================== strip

_ATTRIBUTION_START = re.compile(r"^(?:on|le|am|el|op|il|em|den|dne)\s", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(
    r"(?:\bwrote|\ba écrit|\bschrieb\b.*|\bescribió|\bschreef\b.*|\bha scritto|\bescreveu|\bskrev)\s?:$",
    re.IGNORECASE,
)
# "Dana Reyes <dana@x> schrieb am Mo., 23. Nov. 2026, 09:14:" and "Dana <dana@x> wrote:".
_ATTRIBUTION_NAMED = re.compile(
    r"^.{1,80}<[^<>@\s]+@[^<>\s]+>\s+(?:wrote|schrieb am .+|a écrit)\s?:$", re.IGNORECASE
)
_SEPARATOR = re.compile(
    r"^(?:-{2,}\s*(?:original message|forwarded message|ursprüngliche nachricht|weitergeleitete nachricht|"
    r"message d'origine|message transféré|mensaje original|messaggio originale)\s*-{2,}|"
    r"begin forwarded message:|_{20,})$",
    re.IGNORECASE,
)
_HEADER_FIELD = re.compile(
    r"^\*?(from|sent|date|to|cc|subject|von|gesendet|datum|an|betreff|de|envoyé|à|objet|"
    r"enviado|para|asunto)\s?\*?:",
    re.IGNORECASE,
)
_FROM_FIELD = re.compile(r"^\*?(?:from|von|de)\s?\*?:\s*\S", re.IGNORECASE)
_SIGNATURE_DELIMITER = re.compile(r"^--\s*$")
_MOBILE = re.compile(
    r"^(?:sent from my [\w' -]{1,30}|sent from (?:outlook|mail|yahoo mail|gmail|proton mail|my mobile)"
    r"(?: for [\w ]{1,20})?|get outlook for (?:ios|android)|sent (?:via|with) [\w ]{1,20}|"
    r"von meinem [\w ]{1,20} gesendet|envoyé de mon [\w ]{1,20}|enviado desde mi [\w ]{1,20})"
    r"[.!]?\s*(?:<[^>]*>)?$",
    re.IGNORECASE,
)
# The phrase in any case, then at most three capitalised words: "Best, Dana" but not
# "Thanks, that sounds great".
_SIGN_OFF = re.compile(
    r"^(?i:best|best regards|best wishes|all the best|regards|kind regards|warm regards|warmest regards|"
    r"many thanks|thanks|thanks again|thanks so much|thank you|thank you again|thx|cheers|sincerely|"
    r"yours truly|respectfully|talk soon|speak soon|take care|rgds|mit freundlichen grüßen|viele grüße|"
    r"beste grüße|liebe grüße|gruß|cordialement|bien à vous|saludos|un saludo|met vriendelijke groet)"
    r"[,.!]*(?:\s+[A-Z][\w.'-]*){0,3}\s*$"
)
_DASH_NAME = re.compile(r"^[-–—~]\s?[A-Z][\w.'-]*(?:\s[A-Z][\w.'-]*)?$")
_DISCLAIMER = re.compile(
    r"intended (?:solely )?(?:only )?(?:for )?(?:the )?(?:named )?(?:recipient|addressee)|"
    r"confidentiality notice|^disclaimer\b|privileged and confidential|confidential and privileged|"
    r"may contain confidential|before printing this e-?mail|to unsubscribe from \w+|"
    r"this (?:e-?mail|message) was sent (?:from|by|to)\b|"
    r"if you (?:have )?received this (?:e-?mail|message|communication) in error",
    re.IGNORECASE,
)


def strip_reply(text: str) -> str:
    """The new text of a reply: without quoted history (">" lines, "On … wrote:",
    Outlook's header blocks and separators, forwarded messages), signatures ("-- ",
    "Sent from my iPhone", a sign-off followed by name, title and phone lines) and legal
    footers. Answers written between quoted lines are kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate({0xA0: " ", 0x202F: " ", 0x200B: None, 0xFEFF: None})
    lines = [line.rstrip() for line in text.split("\n")]
    lines = _without_signature(_without_history(lines))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _attribution(lines: list[str], index: int) -> int:
    """How many lines (1-3) an "On <date>, <name> wrote:" line takes at `index`, or 0."""
    first = lines[index].strip()
    if _ATTRIBUTION_NAMED.match(first):
        return 1
    if not _ATTRIBUTION_START.match(first):
        return 0
    joined = first
    for count in range(1, 4):
        if count > 1:
            if index + count - 1 >= len(lines) or not lines[index + count - 1].strip():
                return 0
            joined += " " + lines[index + count - 1].strip()
        # Content that starts "On …" and ends "wrote:" has neither a date nor an address.
        if _ATTRIBUTION_END.search(joined) and (re.search(r"\d", joined) or "@" in joined):
            return count
    return 0


def _header_block(lines: list[str], index: int) -> bool:
    """An Outlook "From: … Sent: … To: … Subject:" block starting at `index`."""
    if not _FROM_FIELD.match(lines[index].strip()):
        return False
    fields = {
        match.group(1).lower()
        for line in lines[index + 1 : index + 8]
        if (match := _HEADER_FIELD.match(line.strip()))
    }
    return len(fields) >= 2


def _without_history(lines: list[str]) -> list[str]:
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if _SEPARATOR.match(line) or _header_block(lines, index):
            break
        span = _attribution(lines, index)
        if span:
            following = next((later for later in lines[index + span :] if later.strip()), "")
            if not following.lstrip().startswith(">"):
                break  # the history follows unquoted (Outlook style): it runs to the end
            index += span
            continue
        if not line.startswith(">"):
            kept.append(lines[index])
        index += 1
    while kept and (not kept[-1].strip() or re.fullmatch(r"[_\-=*]{5,}", kept[-1].strip())):
        kept.pop()
    return kept


def _without_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line) or _MOBILE.match(line.strip()):
            lines = lines[:index]
            break
    lines = _without_disclaimer(lines)
    for index, line in enumerate(lines):
        if not any(earlier.strip() for earlier in lines[:index]):
            continue  # a sign-off needs something above it
        stripped, rest = line.strip(), lines[index + 1 :]
        if _SIGN_OFF.match(stripped) and _signature_like(rest):
            return lines[:index]
        # "-Dana" ends a message; "- Pricing" in a list does not.
        in_list = lines[index - 1].lstrip().startswith(("-", "–", "—")) or any(
            later.lstrip().startswith(("-", "–", "—")) for later in rest
        )
        if _DASH_NAME.match(stripped) and not in_list and _signature_like(rest):
            return lines[:index]
    return lines


def _without_disclaimer(lines: list[str]) -> list[str]:
    start = 0
    for index in range(len(lines) + 1):
        if index == len(lines) or not lines[index].strip():
            paragraph = " ".join(line.strip() for line in lines[start:index])
            if start > 0 and _DISCLAIMER.search(paragraph):
                return lines[:start]
            start = index + 1
    return lines


def _signature_like(rest: list[str]) -> bool:
    """Name, title, company, phone and address lines: short, no questions, no sentences."""
    content = [line.strip() for line in rest if line.strip()]
    if len(content) > 8:
        return False
    for line in content:
        if len(line) > 80 or "?" in line or re.match(r"(?i)p\.?s\.?\b", line):
            return False
        if len(line.split()) >= 6 and line.endswith((".", "!")):
            return False
    return True


# ============================================================================ classify


def classify(
    text: str,
    *,
    subject: str = "",
    auto_headers: Mapping[str, str] | None = None,
    today: date,
) -> Classification:
    """What a stripped reply means for the lead, by the rules in the module docstring.
    Deterministic: the same text, subject, headers and `today` always give the same result."""
    body = _normalize(text)
    headers = {name.lower(): value.strip() for name, value in (auto_headers or {}).items()}

    auto = _auto_reply(body, subject, headers)
    if auto:
        back = _return_date(body, today)
        if back is None:
            return Classification("auto_reply", None, f"auto reply: {auto}; no return date")
        day, words = back
        if (day - today).days > MAX_AWAY_DAYS:
            # "back on November 20" read on the 23rd rolls to next year: an out-of-office
            # that long is almost always a date just past, not a year away.
            return Classification(
                "auto_reply", None, f"auto reply: {auto}; {_quote(words)} is over {MAX_AWAY_DAYS} days away, ignored"
            )
        return Classification("auto_reply", day, f"auto reply: {auto}; {_quote(words)} -> {day.isoformat()}")

    unsubscribe = _unsubscribe(body, subject)
    if unsubscribe:
        return Classification("unsubscribe", None, f"unsubscribe: {unsubscribe}")

    sentences = _sentences(body)
    deferral = _deferral(body, sentences, today)
    if deferral:
        when, words = deferral
        return Classification("not_now", when.day, f"not now: {words} -> {when.day.isoformat()}")

    negative = next(_find(_NEGATIVE, body), None)
    if negative:
        return Classification("negative", None, f"negative: {_quote(negative.words)}")

    referral = next(_find(_REFERRAL, body), None) or next(_find([_REFERRAL_NAMED], body), None)
    if referral:
        return Classification(None, None, f"referral, a rep reads it: {_quote(referral.words)}")

    question = _question(body, sentences)
    if question:
        return Classification("question", None, f"question: {_quote(question)}")
    not_now = list(_find(_NOT_NOW, body))
    positive = _positive(body, sentences, not_now)
    if positive:
        return Classification("positive", None, f"positive: {_quote(positive)}")
    if not_now:
        first = min(not_now, key=lambda hit: hit.start)
        return Classification("not_now", None, f"not now, no date: {_quote(first.words)}")
    return Classification(None, None, "no rule matched" if body else "no new text")


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    words: str


def _patterns(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(pattern, re.IGNORECASE) for pattern in patterns]


def _find(patterns: list[re.Pattern[str]], text: str) -> Iterator[_Hit]:
    for pattern in patterns:
        for match in pattern.finditer(text):
            yield _Hit(match.start(), match.end(), match.group(0))


def _normalize(text: str) -> str:
    """Hard-wrapped lines joined, quotes and dashes made plain; paragraphs keep a blank line."""
    text = text.translate(
        {0x2019: "'", 0x2018: "'", 0x201C: '"', 0x201D: '"', 0x2013: "-", 0x2014: "-", 0xA0: " ", 0x202F: " "}
    )
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(re.sub(r"\s+", " ", p).strip() for p in paragraphs if p.strip())


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in re.finditer(r"[.!?]+(?=\s|$)|\n\n", text):
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in spans if text[s:e].strip()]


def _sentence_of(sentences: list[tuple[int, int]], position: int) -> int:
    for index, (start, end) in enumerate(sentences):
        if start <= position < end:
            return index
    return len(sentences) - 1


def _clause_before(text: str, position: int) -> str:
    marks = (",", ";", ":", ".", "!", "?", "\n", " but ", " - ")
    start = max(text.rfind(mark, 0, position) for mark in marks)
    return text[start + 1 : position]


def _quote(words: str) -> str:
    words = " ".join(words.split())
    return "'" + (words if len(words) <= 80 else words[:77] + "...") + "'"


# ----------------------------------------------------------------------- auto-replies

_AUTO_SUBJECT = _patterns(
    r"\b(?:automatic|automated|auto)[- ]?(?:reply|response|answer|antwort)\b",
    r"\bautoreply\b",
    r"\bautomatische antwort\b",
    r"\bout of (?:the )?office\b",
    r"\booo\b",
    r"\babwesenheitsnotiz\b",
    r"\babwesend\b",
    r"\br[ée]ponse automatique\b",
    r"\babsence du bureau\b",
    r"\bautomatisch antwoord\b",
    r"\brespuesta autom[aá]tica\b",
    r"\brisposta automatica\b",
    r"\bvacation (?:reply|response|notice)\b",
    r"\bon (?:vacation|holiday|leave|annual leave|parental leave)\b",
    r"\baway from (?:the |my )?(?:office|desk)\b",
    r"^(?:away|absent|abwesend|absence|vacation|on leave)\s*:",
)
_AUTO_BODY = _patterns(
    r"\b(?:i am|i'm|i will be|i'll be|we are|we're|the office is|our offices? (?:is|are|will be))\s+"
    r"(?:currently |now |presently |still )?(?:out of (?:the )?office|ooo|away|"
    r"on (?:annual |parental |maternity |paternity |sick |medical |holiday |vacation |bereavement |study )?"
    r"leave|"
    r"on (?:vacation|holiday|a business trip|pto|sabbatical)|travell?ing|closed|offline|not in the office|"
    r"out (?:on|until|till|through|from))\b",
    r"\bout of (?:the )?office (?:until|till|through|from|and|with|on)\b",
    r"\bcurrently out of (?:the )?office\b",
    r"\bon annual leave\b",
    r"\b(?:limited|no|intermittent|restricted) (?:access to|availability (?:on|of)|connection to) "
    r"(?:my )?e-?mails?\b",
    r"\b(?:will|i'll|shall)\s+(?:respond|reply|get back to you|answer|return your (?:e-?mail|message|call)|"
    r"read your (?:e-?mail|message)|attend to your (?:e-?mail|message)|be in touch)\b.{0,40}?"
    r"\b(?:when|upon|on|after|once)\s+(?:my|i)\s+(?:return|am back|get back|'m back)",
    r"\bthis is an? (?:automatic|automated|auto-generated) (?:reply|response|message)\b",
    r"\bnicht im büro\b",
    r"\bje suis absente?\b",
)
_PAST = re.compile(r"\b(?:was|were|been|had)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)
_BACK = re.compile(
    r"\b(?:back|return|returning|returns|in the office|in office|at my desk|reachable|available|"
    r"zurück|wieder im büro|wieder erreichbar|de retour)\b[^.!?\n]{0,25}$",
    re.IGNORECASE,
)
_UNTIL = re.compile(
    r"(?:\b(?:until|till|til|through|thru|to|bis|jusqu'au|ending)\s+"
    r"(?:and including\s+|zum\s+|einschließlich\s+)?|'til\s+|[-–]\s*)$",
    re.IGNORECASE,
)


def _auto_reply(body: str, subject: str, headers: Mapping[str, str]) -> str | None:
    submitted = headers.get("auto-submitted", "")
    if submitted and submitted.lower() != "no":
        return f"header Auto-Submitted: {submitted}"
    for name, shown in (("x-autoreply", "X-Autoreply"), ("x-autorespond", "X-Autorespond")):
        if name in headers:
            return f"header {shown}"
    if headers.get("precedence", "").lower().replace("-", "_") == "auto_reply":
        return "header Precedence: auto_reply"
    for pattern in _AUTO_SUBJECT:
        match = pattern.search(subject)
        if match:
            return f"subject {_quote(match.group(0))}"
    for hit in _find(_AUTO_BODY, body):
        if not _PAST.search(body[max(0, hit.start - 20) : hit.start]):  # "I was out of the office"
            return _quote(hit.words)
    return None


# The longest absence an out-of-office date is believed for (parental leave, sabbatical).
MAX_AWAY_DAYS = 200


def _return_date(body: str, today: date) -> tuple[date, str] | None:
    """The day back: after "back / returning" as written, after "until / through" the day after."""
    back: tuple[date, str] | None = None
    until: tuple[date, str] | None = None
    for when in _times(body, today):
        before = body[max(0, when.start - 40) : when.start]
        before = before[max(before.rfind(". "), before.rfind("\n")) + 1 :]
        if back is None and (anchor := _BACK.search(before)):
            back = (when.day, anchor.group(0) + when.words)
        elif until is None and (anchor := _UNTIL.search(before)):
            until = (when.day + timedelta(days=1) if when.exact else when.day, anchor.group(0) + when.words)
    return back or until


# ------------------------------------------------------------------------ unsubscribe

_UNSUBSCRIBE = _patterns(
    r"\bunsubscribe\b",
    r"\bremove (?:me|us|my (?:e-?mail|address|name|details|info(?:rmation)?|contact(?: info)?))\b"
    r"(?! from (?:this|the) (?:thread|chain|conversation|loop|cc|e-?mail (?:thread|chain)))",
    r"\btake (?:me|us|my (?:e-?mail|address|name)) off\b",
    r"\b(?:stop|quit|cease) (?:e-?mailing|contacting|messaging|mailing|sending (?:me|us)|spamming|"
    r"writing to|reaching out to|bothering|calling)\b",
    r"\b(?:don't|do not|never) (?:e-?mail|contact|message|write to|reach out to|call|bother|follow up with) "
    r"(?:me|us|(?:this|my) (?:address|e-?mail(?: address)?))\b"
    r"(?!\s+(?:until|till|before|for now|for (?:a|the next|another)|again (?:until|before)))",
    r"\b(?:don't|do not|never) (?:e-?mail|contact|message|follow up|reach out)"
    r"(?: (?:me|us|with me|with us|on this|about this|to me|to us))?\s+"
    r"(?:again|anymore|any more|any further|further|ever again)\b",
    r"\bopt(?:ed|ing)? (?:me |us )?out\b",
    r"\bopt-out\b",
    r"\bno (?:more|further) (?:e-?mails|messages|contact|follow[- ]?ups|outreach)\b",
    r"\boff (?:your|the|this|whatever) (?:mailing |e-?mail |distribution |contact |call )?list\b",
    r"\bdelete (?:my|our) (?:data|details|information|info|e-?mail|address|contact|personal data)\b",
    r"\b(?:leave|let) (?:me|us) alone\b",
    r"\bkeine e-?mails mehr\b",
    r"\babmelden\b",
)
_UNSUBSCRIBE_ALONE = re.compile(
    r"^\W*(?:unsubscribe|remove|remove me|stop|stop all|opt[- ]?out|end|quit)\W*$", re.IGNORECASE
)
_UNSUBSCRIBE_NEGATED = re.compile(r"(?:\b(?:not|never|no need to)|n't)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def _unsubscribe(body: str, subject: str) -> str | None:
    if _UNSUBSCRIBE_ALONE.match(body):
        return _quote(body)
    for hit in _find(_UNSUBSCRIBE, body):
        if not _UNSUBSCRIBE_NEGATED.search(body[max(0, hit.start - 40) : hit.start]):
            return _quote(hit.words)
    bare_subject = re.sub(r"^(?:\s*(?:re|aw|fwd?|wg|tr)\s*:\s*)+", "", subject, flags=re.IGNORECASE)
    if bare_subject and _UNSUBSCRIBE_ALONE.match(bare_subject):
        return f"subject {_quote(bare_subject)}"
    return None


# --------------------------------------------------------------------------- not now

_NOT_NOW = _patterns(
    r"\bnot (?:right )?now\b",
    r"\bnot at (?:the|this) (?:moment|time|point|stage)\b",
    r"\bnot (?:the |a )?(?:right|best|good|ideal|great) (?:time|timing|moment)\b",
    r"\bbad (?:time|timing)\b",
    r"\btiming(?:'s| is)? (?:(?:just|really|quite|simply) )?"
    r"(?:not|isn't|is not|off|bad|wrong|tough|tricky)\b",
    r"\btiming isn't\b",
    r"\bnot (?:a|our) (?:top |high |big |current )?priority\b",
    r"\bnot (?:currently |really )?prioriti[sz]ing\b",
    r"\bnot urgent\b",
    r"\b(?:too much|a lot|lots) on (?:our|my) plate\b",
    r"\bnot in a buying (?:cycle|mode|window)\b",
    r"\bwhen (?:we're|we are|i'm|i am|we'll be|things are) (?:ready|in a (?:better )?position)\b",
    r"\b(?:low|lower) priority\b",
    r"\bother priorities\b",
    r"\b(?:not|isn't) (?:high )?on (?:our|my) (?:radar|roadmap|list|agenda)\b",
    r"\bno budget\b",
    r"\b(?:don't|do not) have (?:the |a |any )?budget\b",
    r"\bbudget(?:'s| is| has been| was)? (?:frozen|spent|used up|allocated|tight|cut|locked|gone|tapped out|"
    r"maxed out|exhausted)\b",
    r"\b(?:hiring|spending|budget|headcount) freeze\b",
    r"\bfrozen (?:all )?(?:new )?(?:spend|spending|budget|purchases)\b",
    r"\bbudget\b.{0,40}\b(?:hasn't|has not|isn't|is not|not yet) (?:been )?"
    r"(?:approved|set|finalized|signed off)\b",
    r"\bon hold\b",
    r"\bback burner\b",
    r"\b(?:too|very|really|super|pretty|extremely|incredibly) (?:busy|swamped|slammed|stretched)\b",
    r"\bswamped\b",
    r"\bslammed\b",
    r"\bheads[- ]down\b",
    r"\b(?:busy|peak) season\b",
    r"\bnot ready\b",
    r"\bnot yet\b",
    r"\bmaybe later\b",
    r"\b(?:down the road|in the future|at some point|some other time|another time|later on|for later)\b",
    r"\bat a later (?:date|time|stage)\b",
    r"\bno (?:bandwidth|capacity)\b",
    r"\b(?:don't|do not) have (?:the )?(?:bandwidth|capacity|resources)\b",
    r"\bcan't take on\b",
    r"\bin the middle of (?:a|an|our)\b",
    r"\bkeep (?:me|us) (?:in mind|posted)\b",
    r"\bkeep your (?:info|details|contact|e-?mail|information)(?: on file)?\b",
    r"\bnot in a position to\b",
    r"\b(?:isn't|is not|not) something (?:we|i) can (?:look at|consider|take on|prioriti[sz]e|do)\b",
    r"\bnot (?:this|the current) (?:year|quarter|cycle)\b",
    r"\b(?:locked|tied) in(?:to)?\b",
    r"\bunder contract\b",
    r"\bcontract\b.{0,40}\b(?:ends|expires|is up|runs out|renews|runs until|runs through)\b",
    r"\bjust renewed\b",
    r"\bwhen things (?:calm|settle|quiet|slow)",
    r"\bwhen (?:that|it|this|the freeze) (?:lifts|changes|clears)\b",
    r"\bif (?:that|anything|things) changes?\b",
    r"\b(?:derzeit|momentan|zurzeit|aktuell)\b.{0,40}\bkeine?n? (?:bedarf|budget|kapazität(?:en)?|zeit)\b",
)
# A deferral says when to come back; without a time it says nothing about "not now".
_DEFERRAL = _patterns(
    r"\bcheck (?:back|in)\b",
    r"\bcircle back\b",
    r"\breach (?:back )?out\b",
    r"\bfollow up\b",
    r"\bget (?:back )?in touch\b",
    r"\bget back to (?:me|us)\b",
    r"\breconnect\b",
    r"\brevisit\b",
    r"\btouch base\b",
    r"\btry (?:me|us)(?: again)?\b|\btry again\b",
    r"\bping (?:me|us)\b",
    r"\bhit (?:me|us) up\b",
    r"\b(?:contact|email|e-mail|call|write|message) (?:me|us)(?: again| back)?\b",
    r"\bask (?:me|us) again\b",
    r"\bcome back to (?:me|us|this)\b",
    r"\bpick (?:this|it|things) (?:back )?up\b",
    r"\bloop back\b",
    r"\bpush (?:this|it|things) (?:back |out )?(?:to|until|till)\b",
    r"\b(?:wait|hold off) (?:until|till)\b",
    r"\bnot (?:until|before)\b",
    r"\bno sooner than\b",
    r"\b(?:would|will|might|could) (?:be|work) (?:a )?better\b",
    r"\bbetter (?:timing|time)\b",
    r"\bcould work\b",
    r"\bworth a (?:conversation|chat|call|look)\b",
    r"\bmelden sie sich\b",
    r"\b(?:don't|do not) (?:contact|email|e-mail) (?:me|us) (?:until|till|before)\b",
)
# Count only in the same sentence as a time at least two weeks out: "let's talk in January"
# and "not interested right now, maybe next year" defer, "let's talk Tuesday" schedules.
_MEETING = _patterns(
    r"\b(?:talk|chat|connect|speak|meet|discuss|catch up|look at this|look into this|reconvene)\b",
)
_HEDGE = _patterns(
    r"\b(?:maybe|perhaps|possibly|probably|hopefully)\b",
    r"\b(?:right now|for now|at the moment|at this time|currently)\b",
)
_SCHEDULING_HORIZON = timedelta(days=14)
# Deferrals that carry their own "not": "not until March", "don't contact me until March".
_SELF_NEGATING = re.compile(r"^(?:not|no|don't|do not)\b", re.IGNORECASE)


def _deferral(body: str, sentences: list[tuple[int, int]], today: date) -> tuple[_When, str] | None:
    """The time a deferral names, and the words that say so. Best first: a time in the
    sentence of a deferral (or a meeting verb), then of a not-now reason (or a hedge), then
    the same one sentence away. Meeting verbs and hedges count only in the same sentence
    and for a time at least two weeks out."""
    times = [
        when
        for when in _times(body, today)
        # "the budget for next year" names what, not when.
        if when.day > today and not re.search(r"\bfor\s+$", body[max(0, when.start - 5) : when.start])
    ]
    if not times:
        return None
    # (patterns, rank: a deferral before a reason, weak: same sentence and two weeks out only)
    kinds = ((_DEFERRAL, 0, False), (_MEETING, 0, True), (_NOT_NOW, 1, False), (_HEDGE, 1, True))
    cues: dict[int, list[tuple[int, bool, _Hit]]] = {}
    for patterns, rank, weak in kinds:
        for hit in _find(patterns, body):
            cues.setdefault(_sentence_of(sentences, hit.start), []).append((rank, weak, hit))
    best: tuple[tuple[int, int], _When, _Hit] | None = None
    for when in times:
        sentence = _sentence_of(sentences, when.start)
        for distance, index in ((0, sentence), (1, sentence - 1), (1, sentence + 1)):
            for rank, weak, hit in cues.get(index, []):
                if weak and (distance or when.day - today < _SCHEDULING_HORIZON):
                    continue
                # "Don't reach out in January"; a not-now reason is negative by nature.
                negated = _NEGATED.search(_clause_before(body, hit.start))
                if rank == 0 and negated and not _SELF_NEGATING.match(hit.words):
                    continue
                key = (distance * 2 + rank, when.start)
                if best is None or key < best[0]:
                    best = (key, when, hit)
    if best is None:
        return None
    _, when, hit = best
    start, end = min(when.start, hit.start), max(when.end, hit.end)
    words = _quote(body[start:end]) if end - start <= 80 else f"{_quote(hit.words)} ... {_quote(when.words)}"
    return when, words


# -------------------------------------------------------------------- negative, referral

_NEGATIVE = _patterns(
    r"\bnot (?:really |at all |that |very )?interested\b",
    r"\bno longer interested\b",
    r"\bno interest\b",
    r"\b(?:isn't|is not|not|wasn't|was not) (?:really )?(?:a|the right|a good|the best|a great) "
    r"(?:fit|match)\b",
    r"\b(?:went|gone|going|go|decided to go|chose to go|chosen to go|opted to go) (?:with|in) "
    r"(?:another|a different|an? other|a competitor|someone else|other)\b",
    r"\b(?:chose|chosen|selected|picked|partnered with|moved forward with|going forward with)\b.{0,30}"
    r"\b(?:another|a different|a competitor|someone else|instead)\b",
    r"\bsigned (?:a contract |an agreement |on )?with\b",
    r"\b(?:already|currently) (?:have|use|using|work with|working with|got|found|chose|selected)\s+"
    r"(?:a |an |our own |another |one |the )?(?:\w+\s+)?(?:solution|vendor|provider|tool|system|platform|"
    r"partner|agency|software|product|service|tms)\b",
    r"\bhappy with (?:our|what we have|the current|our current)\b",
    r"\b(?:sticking|stick|staying|stay) with (?:our|what we have|the current|our current)\b",
    r"\bgo(?:ing)? (?:another|a different) (?:way|route|direction)\b",
    r"\b(?:already|currently) (?:use|using|have|run|running|work with) \w+(?: \w+)? for (?:this|that|it)\b",
    r"\b(?:keep|continue) (?:doing|handling|running) (?:this|it|things|dispatch) "
    r"(?:manually|in-house|ourselves)\b",
    r"\bno,? thank(?:s| you)\b(?!\s+for)",
    r"\bclose (?:this|it|my file|the file|our file|this out|out (?:this|the|my|our)|my account)\b",
    r"\bdecided (?:not to|against) (?:move|moving|proceed|proceeding|pursue|pursuing|go|going|buy|buying|"
    r"purchase|continue|continuing|sign|signing)\b",
    r"\b(?:not|won't be|will not be|aren't|are not|not be) (?:moving|going) forward\b",
    r"\b(?:won't|will not|not going to|are not|aren't|not) (?:be )?pursu(?:e|ing)\b",
    # "pass", but not "pass this along"
    r"\b(?:we'll|we will|i'll|i will|going to|gonna|have to|need to|must|we're going to|i'm going to) pass\b"
    r"(?!\s+(?:this|it|that|your \w+)?\s*(?:along|on|to)\b)",
    r"^pass\b(?!\s+(?:this|it|that)?\s*(?:along|on|to)\b)",
    r"\bpass on (?:this|it|the offer|your offer)\b",
    r"\bnot (?:for us|for me|something (?:we|i)(?:'re| are| am)? (?:need|want|interested in|looking for))\b",
    r"\b(?:don't|do not) think (?:this|it|that)(?:'s| is| would be| will be) "
    r"(?:for us|a (?:good )?fit|right for us|a match)\b",
    r"\b(?:don't|do not|no longer) need "
    r"(?:this|it|your (?:product|service|tool|platform|solution|help|offering)|"
    r"(?:a|an|any) (?:solution|tool|platform|vendor|service|new \w+))\b",
    r"\bno (?:need|use) for (?:this|it|your|a |an |the )",
    r"\b(?:we're|we are|i'm|i am) not (?:looking|in the market|buying|shopping|considering)\b",
    r"\bnot looking to (?:change|switch|buy|replace|add|move)\b",
    r"\b(?:respectfully |politely )?declin(?:e|ing) (?:your|the|this)\b",
    r"\bkein interesse\b",
)
_REFERRAL = _patterns(
    r"\bforward(?:ing|ed)? (?:this |it |your (?:e-?mail|note|message) )?(?:on |along )?to\b",
    r"\blooping in\b",
    r"\b(?:i've|i have|i'm|i am) (?:cc'?d|copied|added|looped in|looping in|adding|copying)\b",
    r"\bcc'?ing\b",
    r"\b(?:not|isn't|is not) the (?:right|best|correct) (?:person|contact|one)\b",
    r"\b(?:the )?(?:right|best|correct|better) (?:person|contact) (?:for|to|is|would be)\b",
    r"\bwrong (?:person|contact|address|e-?mail|department)\b",
    r"\bno longer (?:with|at|work(?:s|ing)? (?:at|for|with)|employed)\b",
    r"\b(?:have|has|i've) (?:left|moved on from)\b",
    r"\bwho (?:took over|handles|owns|is responsible for|manages) (?:my|this|these|our)\b",
    # Forwarded to a colleague: "can you take a look at this and let me know what you think?"
    r"\b(?:can|could) you (?:take a look at|have a look at|look at|look into) (?:this|the below|below)\b",
)
# Case matters here: a name follows.
_REFERRAL_NAMED = re.compile(
    r"\b(?:[Rr]each out to|[Cc]ontact|[Tt]alk to|[Ss]peak (?:to|with)|[Aa]dding|[Ll]ooping in|[Cc]opying) "
    r"(?:my colleague |our )?[A-Z][a-z]+(?: [A-Z][a-z]+)?\b"
)


# ------------------------------------------------------------------ question, positive

_POSITIVE = _patterns(
    r"\b(?:sounds?|looks?) (?:really |very |pretty |quite )?(?:interesting|good|great|promising|intriguing|"
    r"compelling|useful|relevant|like a plan|perfect|fine)\b",
    r"\bloop (?:me|us) in\b",
    r"\bintrigued\b",
    r"\b(?:can|could) (?:meet|talk|chat|connect|hop on a call)\b",
    r"\binterested\b",
    r"\b(?:let's|lets|let us) (?:set up|setup|schedule|book|find|talk|chat|connect|meet|do|hop on|"
    r"jump on|get|grab|arrange|plan|try|go|move forward|proceed|discuss)\b",
    r"\b(?:set up|setup|schedule|book|arrange|grab|find|organi[sz]e|line up) (?:a|some|the|an) "
    r"(?:call|meeting|time|demo|chat|slot|session|walkthrough|intro|\d+)\b",
    r"\b(?:happy|glad|keen|eager) to (?:chat|talk|connect|meet|hop|jump|take a look|learn|see|review|set up|"
    r"discuss|hear|try|get|move)\b",
    r"\b(?:would|'d) love to\b",
    r"\b(?:i'd|i would|we'd|we would) like to (?:learn|see|know|talk|hear|get|set up|schedule|book|try|chat|"
    r"meet|explore|move|proceed|discuss)\b",
    r"\btell me more\b",
    r"\bopen to (?:a|an|learning|chatting|talking|it|exploring|hearing|the idea|that|this)\b",
    r"\bcount (?:me|us) in\b",
    r"\bsign (?:me|us) up\b",
    r"\bworth a (?:conversation|chat|look|call|try|shot)\b",
    r"\b(?:send|share) (?:me |us )?(?:over |through )?(?:a |an |the |some |your )?(?:calendar|invite|link|"
    r"times|slots|availability|proposal|contract|details|deck|quote)\b",
    r"\b(?:works|work) for (?:me|us)\b",
    r"\b(?:i'm|i am|we're|we are) (?:free|available|around)\b",
    r"\b(?:book|put) (?:something|some time|time)\b",
    r"\b(?:good|perfect|great) timing\b",
    r"\btiming is (?:perfect|great|good|right)\b",
    r"\bconvinced me\b",
    r"\bgot my attention\b",
    r"\bmove forward\b",
    r"^(?:yes|yep|yeah|yup|sure|absolutely|definitely)\b",
)
_NEGATED = re.compile(
    r"(?:\b(?:not|no|never|nor|without|hardly|cannot)\b|n't\b|\bno longer\b)[^,;:.!?]*$", re.IGNORECASE
)
# Without a question mark only a clear interrogative counts ("can you send pricing"), not
# a statement that drops its subject ("will circle back when things calm down").
_QUESTION_START = re.compile(
    r"^(?:\d+[.)]\s*)?(?:(?:can|could|would|will|do|does|did|is|are|should|have|has)\s+"
    r"(?:you|we|i|it|they|there|this|that|the|your|our)\b|"
    r"(?:what|what's|whats|how|how's|which|when|where|why|who|whose|any chance)\b)",
    re.IGNORECASE,
)
_SCHEDULING_QUESTION = _patterns(
    r"\bwhen (?:are|would|will|is|works?) (?:you|it|good|best)\b",
    r"\b(?:what|which) (?:times?|days?|slots?|dates?)\b",
    r"\b(?:send|share) (?:me |us )?(?:a |some |your )?(?:times|slots|invite|calendar|availability|link)\b",
    r"\bfree (?:on|at|next|this|tomorrow)\b",
    r"\bwhen (?:can|could|would|should) (?:you|we) (?:demo|meet|talk|chat|call|speak|connect|get together)\b",
    r"\b(?:get|find|grab|book|schedule|set up|put)\b.{0,30}"
    r"\b(?:minutes|a call|a meeting|a demo|on the calendar|some time)\b",
    # "Does Tuesday at 2 work?" arranges a meeting; "does billing work?" asks about the offer.
    r"\b(?:monday|tuesday|wednesday|thursday|friday|tomorrow|today|morning|afternoon|evening|\d\s*(?:am|pm)|"
    r"\d:\d\d|time|slot|week)\b.{0,40}\b(?:work|suit)s?(?: for (?:you|me|us))?\W*$",
)
# Questions about us, not the offer.
_META_QUESTION = _patterns(
    r"\b(?:who is this|who's this|who are you|who is this from)\b",
    r"\bhow did you (?:get|find) (?:my|this|our|us|me)\b",
    r"\bwhere did you get (?:my|this|our)\b",
    r"\bwhy (?:are|do|did) you (?:keep )?(?:e-?mailing|contacting|sending|writing|reaching)\b",
    r"\bis this (?:spam|a bot|automated|real|a scam)\b",
    r"\bdid(?:n't)? you (?:already )?(?:e-?mail|send|write|contact|reach)\b",
    r"\bdo i know you\b",
    r"\bhave we (?:met|spoken)\b",
)


def _is_scheduling(sentence: str) -> bool:
    return any(pattern.search(sentence) for pattern in _SCHEDULING_QUESTION)


def _question(body: str, sentences: list[tuple[int, int]]) -> str | None:
    for start, end in sentences:
        sentence = body[start:end].strip()
        if not (sentence.endswith("?") or _QUESTION_START.match(sentence)):
            continue
        if any(pattern.search(sentence) for pattern in _META_QUESTION) or _is_scheduling(sentence):
            continue
        return sentence
    return None


def _positive(body: str, sentences: list[tuple[int, int]], not_now: list[_Hit]) -> str | None:
    hedged = {_sentence_of(sentences, hit.start) for hit in not_now}
    for index, (start, end) in enumerate(sentences):
        if index in hedged:
            continue
        sentence = body[start:end]
        for pattern in _POSITIVE:
            for match in pattern.finditer(sentence):
                if not _NEGATED.search(_clause_before(sentence, match.start())):
                    return match.group(0)
    # A question that only arranges the meeting is interest too.
    return next((body[s:e].strip() for s, e in sentences if _is_scheduling(body[s:e])), None)


# =============================================================================== dates


@dataclass(frozen=True)
class _When:
    start: int
    end: int
    words: str
    day: date
    exact: bool  # a day, not the start of a period or a span of time


_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7,
    "oktober": 10, "dezember": 12,
}
# Abbreviations only count beside a day number: "Jan" alone is a colleague.
_FULL_MONTHS = [
    name
    for name in _MONTHS
    if len(name) > 4 or name in ("may", "june", "july", "mai", "juni", "juli", "märz")
]


def _alternatives(names: list[str] | dict[str, int]) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_MONTH_ANY = rf"(?P<mon>{_alternatives(_MONTHS)})"
_MONTH_FULL = rf"(?P<mon>{_alternatives(_FULL_MONTHS)})"
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_ANY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thu|fri|sat|sun|"
    r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)"
)
_SEASONS = {
    "spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12,
    "frühjahr": 3, "frühling": 3, "sommer": 6, "herbst": 9,
}
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a couple": 2,
    "couple of": 2, "couple": 2, "a few": 3, "few": 3, "several": 3, "a half dozen": 6,
}
_NUMBER = rf"(?:\d{{1,2}}|{_alternatives(_NUMBERS)})"
_YEAR_SUFFIX = r"(?:,?\s+(?:of\s+)?(?P<y>20\d\d)|\s+(?P<yrel>next|this) year)?"


def _clamp(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (Jan 31 + 1 month = Feb 28)."""
    index = day.month - 1 + months
    return _clamp(day.year + index // 12, index % 12 + 1, day.day)


def _next_on_or_after(today: date, month: int, day: int) -> date:
    candidate = _clamp(today.year, month, day)
    return candidate if candidate >= today else _clamp(today.year + 1, month, day)


def _stated_year(match: re.Match[str], today: date) -> int | None:
    groups = match.groupdict()
    if groups.get("y"):
        return int(groups["y"])
    if groups.get("yrel"):
        return today.year + (groups["yrel"].lower() == "next")
    return None


def _day_in(match: re.Match[str], today: date, month: int, day: int) -> date:
    """A month and day in the stated year, or the next one on or after today."""
    year = _stated_year(match, today)
    return _clamp(year, month, day) if year else _next_on_or_after(today, month, day)


def _period_start(match: re.Match[str], today: date, start: date) -> date:
    """A period start in the stated year, or the next one on or after today."""
    if _stated_year(match, today) is None and start < today:
        return _add_months(start, 12)
    return start


def _first_monday_after_new_year(today: date) -> date:
    for year in (today.year, today.year + 1):
        new_year = date(year, 1, 1)
        monday = new_year + timedelta(days=(7 - new_year.weekday()) % 7 or 7)
        if monday >= today:
            return monday
    raise AssertionError("unreachable: next year's first Monday lies ahead")


def _monday_after_thanksgiving(today: date) -> date:
    for year in (today.year, today.year + 1):
        first = date(year, 11, 1)
        fourth_thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        if fourth_thursday + timedelta(days=4) >= today:
            return fourth_thursday + timedelta(days=4)
    raise AssertionError("unreachable: next year's Thanksgiving lies ahead")


def _quarter_start(year: int, quarter: int) -> date:
    return date(year + (quarter - 1) // 4, (quarter - 1) % 4 * 3 + 1, 1)


def _modified_day(mod: str | None) -> int:
    """The day of the month that "early / mid / late" a month means."""
    mod = (mod or "").lower()
    return 15 if "mid" in mod else 21 if ("late" in mod or "end" in mod) else 1


def _day(year: int, month: int, day: int) -> tuple[date, bool] | None:
    try:
        return date(year, month, day), True
    except ValueError:
        return None


def _full_year(digits: str) -> int:
    return int(digits) + (2000 if len(digits) == 2 else 0)


# Each rule: a pattern and what day it means; `exact` is False for periods and spans.
_Resolver = Callable[[re.Match[str], date], "tuple[date, bool] | None"]
_TIME_RULES: list[tuple[re.Pattern[str], _Resolver]] = []


def _rule(pattern: str) -> Callable[[_Resolver], _Resolver]:
    def register(resolve: _Resolver) -> _Resolver:
        _TIME_RULES.append((re.compile(pattern, re.IGNORECASE), resolve))
        return resolve

    return register


@_rule(r"\b(?P<y>20\d\d)-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
def _iso(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return _day(int(m["y"]), int(m["m"]), int(m["d"]))


@_rule(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<yy>\d{4}|\d{2})?(?!\d)")
def _dotted(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    day, month = int(m["d"]), int(m["m"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if m["yy"]:
        return _day(_full_year(m["yy"]), month, day)
    return _next_on_or_after(today, month, day), True


@_rule(r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<yy>\d{4}|\d{2}))?\b")
def _slashed(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    month, day = int(m["a"]), int(m["b"])
    if month > 12:
        month, day = day, month
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if m["yy"]:
        return _day(_full_year(m["yy"]), month, day)
    return _next_on_or_after(today, month, day), True


@_rule(
    rf"(?:\b{_WEEKDAY_ANY}\.?,?\s+)?(?:the\s+)?\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?"
    rf"{_MONTH_ANY}\b\.?{_YEAR_SUFFIX}"
)
@_rule(
    rf"(?:\b{_WEEKDAY_ANY}\.?,?\s+)?\b{_MONTH_ANY}\.?\s+(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"{_YEAR_SUFFIX}"
)
def _month_and_day(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    day = int(m["d"])
    if not 1 <= day <= 31 or (m["mon"].lower() == "may" and not m["mon"][0].isupper()):
        return None
    return _day_in(m, today, _MONTHS[m["mon"].lower()], day), True


@_rule(r"\bthe\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b")
def _ordinal(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    day = int(m["d"])
    for months in range(13):
        first = _add_months(today.replace(day=1), months)
        if day <= calendar.monthrange(first.year, first.month)[1] and first.replace(day=day) >= today:
            return first.replace(day=day), True
    return None


@_rule(r"\b(?:(?:next|this|coming)\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b")
def _weekday(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return today + timedelta(days=(_WEEKDAYS.index(m["wd"].lower()) - today.weekday()) % 7 or 7), True


@_rule(r"\btomorrow\b")
def _tomorrow(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return today + timedelta(days=1), True


@_rule(r"\b(?:the\s+)?(?:next|following|coming)\s+week\b")
def _next_week(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return today + timedelta(days=7 - today.weekday()), False


_MODIFIERS = (
    "early|mid|late|the end of|end of|the beginning of|beginning of|the start of|start of|"
    "the middle of|middle of"
)


@_rule(rf"\b(?:(?P<mod>{_MODIFIERS})\s*[- ]?\s*)?(?:the\s+)?(?:next|following|coming)\s+month\b")
def _next_month(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return _add_months(today.replace(day=1), 1).replace(day=_modified_day(m["mod"])), False


@_rule(r"\b(?:the\s+)?end\s+of\s+(?:the|this)\s+month\b")
def _end_of_month(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return max(today.replace(day=21), today + timedelta(days=1)), False


@_rule(rf"\b(?:(?P<mod>{_MODIFIERS}|after|anfang|mitte|ende)\s*[- ]?\s*)?{_MONTH_FULL}\b{_YEAR_SUFFIX}")
def _month(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    if m["mon"].lower() in ("may", "mai") and not m["mon"][0].isupper():
        return None  # "we may revisit": the verb, not the month
    month = _MONTHS[m["mon"].lower()]
    mod = (m["mod"] or "").lower()
    mod = {"anfang": "early", "mitte": "mid", "ende": "end"}.get(mod, mod)
    if mod == "after":
        start = _add_months(date(_stated_year(m, today) or today.year, month, 1), 1)
        return _period_start(m, today, start), False
    return _day_in(m, today, month, _modified_day(mod)), False


@_rule(
    r"\b(?P<prep>in|this|next|after|by|until|till|over|around|come|during|to|for|early|late|mid|"
    r"im|ab|nach dem)"
    r"(?:\s+the)?\s*[- ]?\s*(?P<s>spring|summer|fall|autumn|winter|frühjahr|frühling|sommer|herbst)\b"
    + _YEAR_SUFFIX
)
def _season(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    prep = m["prep"].lower()
    offset = 3 if prep in ("after", "nach dem") else 1 if prep == "mid" else 2 if prep == "late" else 0
    january = date(_stated_year(m, today) or today.year, 1, 1)
    start = _add_months(january, _SEASONS[m["s"].lower()] - 1 + offset)
    return _period_start(m, today, start), False


@_rule(
    r"\b(?:(?P<mod>after|end of|the end of|beginning of|start of|the start of|early|late|mid)\s+)?(?:the\s+)?"
    r"(?:q(?P<q>[1-4])|(?P<qw>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)\b" + _YEAR_SUFFIX
)
def _quarter(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    quarter = int(m["q"]) if m["q"] else _QUARTER_WORDS[m["qw"].lower()]
    mod = (m["mod"] or "").lower()
    offset = 3 if mod == "after" else 2 if ("end" in mod or mod == "late") else 1 if mod == "mid" else 0
    start = _add_months(_quarter_start(_stated_year(m, today) or today.year, quarter), offset)
    return _period_start(m, today, start), False


_QUARTER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}


@_rule(r"\b(?:the\s+)?(?:next|following|coming)\s+quarter\b|\bafter\s+this\s+quarter\b")
def _next_quarter(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return _quarter_start(today.year, (today.month - 1) // 3 + 2), False


@_rule(
    rf"\b(?:(?P<mod>{_MODIFIERS}|later)\s+)?(?:in\s+)?next\s+year\b"
    r"|\bnächstes\s+jahr\b|\bim\s+nächsten\s+jahr\b"
)
def _next_year(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    mod = (m["mod"] or "").lower()
    return date(today.year + 1, 7 if "mid" in mod else 10 if ("late" in mod or "end" in mod) else 1, 1), False


@_rule(r"\b(?:this|same|around this)\s+time\s+next\s+year\b|\b(?:a|one)\s+year\s+from\s+(?:now|today)\b")
def _a_year_on(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return _add_months(today, 12), False


@_rule(r"\b(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?year\b|\byear[- ]end\b|\beoy\b")
def _end_of_year(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return max(date(today.year, 12, 1), today + timedelta(days=1)), False


@_rule(
    r"\bafter\s+(?:the\s+)?(?:holidays|holiday season|holiday break|christmas(?: break)?|xmas|"
    r"new\s+year'?s?(?:\s+day)?|the\s+new\s+year|the\s+turn\s+of\s+the\s+year)\b"
)
def _after_holidays(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return _first_monday_after_new_year(today), False


@_rule(r"\b(?:in|early in|early|at the start of|at the beginning of)\s+the\s+new\s+year\b")
def _new_year(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return date(today.year + 1, 1, 1), False


@_rule(r"\bafter\s+thanksgiving\b")
def _after_thanksgiving(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    return _monday_after_thanksgiving(today), False


# Not the year of an ISO date ("until 2026-12-14").
@_rule(
    r"\b(?P<mod>in|until|till|after|by|early|late|mid|from|not until|sometime in|around|for)\s+"
    r"(?P<y>20\d\d)\b(?!-\d)"
)
def _in_year(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    year, mod = int(m["y"]), m["mod"].lower()
    if mod == "after":
        start = date(year + 1, 1, 1)
    else:
        start = date(year, 7 if mod == "mid" else 10 if mod == "late" else 1, 1)
    return (start, False) if start > today else None


@_rule(
    r"\b(?:in|within|give it|give us|wait|another|for another|in another|after|in about|in around|"
    r"in roughly|in maybe|in approximately|about|around)\s+"
    r"(?:(?:about|around|roughly|maybe|another|the next|a good)\s+)?"
    rf"(?P<n>{_NUMBER})(?:\s*(?:-|–|to|or)\s*{_NUMBER})?\s+(?P<u>day|week|month|year)s?\b"
    rf"|\b(?P<n2>{_NUMBER})(?:\s*(?:-|–|to|or)\s*{_NUMBER})?\s+(?P<u2>day|week|month|year)s?\s+"
    r"(?:from\s+(?:now|today)|out|time)\b"
    r"|\b(?:in\s+)?(?:a|one)\s+(?P<u3>week|month|year)\s+or\s+two\b"
)
def _span(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    number = (m["n"] or m["n2"] or "one").lower()
    count = int(number) if number.isdigit() else _NUMBERS[number]
    unit = (m["u"] or m["u2"] or m["u3"]).lower()
    if unit in ("day", "week"):
        return today + timedelta(days=count * (7 if unit == "week" else 1)), False
    return _add_months(today, count * (12 if unit == "year" else 1)), False


@_rule(r"\bin\s+(?P<n>\d{1,2}|einigen|ein paar|zwei|drei|sechs)\s+(?P<u>monaten|wochen)\b")
def _german_span(m: re.Match[str], today: date) -> tuple[date, bool] | None:
    words = {"einigen": 3, "ein paar": 2, "zwei": 2, "drei": 3, "sechs": 6}
    count = int(m["n"]) if m["n"].isdigit() else words[m["n"].lower()]
    if m["u"].lower() == "monaten":
        return _add_months(today, count), False
    return today + timedelta(weeks=count), False


def _times(text: str, today: date) -> list[_When]:
    """Every time expression in the text, in order; where two overlap, the longer."""
    found = [
        _When(match.start(), match.end(), match.group(0), *resolved)
        for pattern, resolve in _TIME_RULES
        for match in pattern.finditer(text)
        if (resolved := resolve(match, today)) is not None
    ]
    chosen: list[_When] = []
    for when in sorted(found, key=lambda w: (-(w.end - w.start), w.start)):
        if all(when.end <= other.start or when.start >= other.end for other in chosen):
            chosen.append(when)
    return sorted(chosen, key=lambda w: w.start)
