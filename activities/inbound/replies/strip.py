"""The new text of a reply: quoted history, attributions, signatures and legal footers
cut away (answers written between quoted lines are kept).

Every reply quotes the touch it answers; left in, our own words (its pricing question,
its "reply unsubscribe" line) would be read by `classify` as the sender's.
"""

from __future__ import annotations

import re

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
