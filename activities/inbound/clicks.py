"""Clicks a security scanner made are not interest.

Mail gateways (Barracuda, Proofpoint, Mimecast, Microsoft Safe Links, …) open every
link of a message to check it, often before the person has even seen it. Counted as
clicks, those would move leads from nurture to follow-up on nobody's interest. A
click is judged automated when

1. its user agent is empty or names a known scanner, link checker, HTTP library or
   headless browser (`SCANNER_AGENTS`, matched as case-insensitive substrings);
2. it came within `after_delivery_seconds` of the delivery (from `note_delivery`), or
   before the delivery was reported; with no delivery known, within
   `after_delivery_seconds + 5` of the send (`mail_timestamp`), since delivery
   itself takes a few seconds;
3. another link of the same message was clicked within 1 s of it: people open one
   link at a time, scanners all of them at once.

Limitation: clicks are judged as they arrive, so the first click of a burst is judged
before its siblings exist and can pass as human; only the clicks after it are caught.
The caller therefore holds back clicks younger than a few seconds before judging them,
and the workflow counts a second click on one piece within 2 s of the first as the
same visit. The detector lives in one consumer's memory: clicks of one message that
reach different consumers, or arrive after a restart, are judged without each other.

Pure logic: no clock (every time comes from the event) and no I/O. All datetimes must
be timezone-aware.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# (family, user-agent substrings), matched case-insensitively anywhere in the agent.
SCANNER_AGENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Barracuda Email Security Gateway and its link protection.
    ("Barracuda", ("barracuda",)),
    # Proofpoint URL Defense; its sandbox fetchers call themselves ppops-….
    ("Proofpoint", ("proofpoint", "ppops")),
    # Mimecast URL Protect.
    ("Mimecast", ("mimecast",)),
    # Microsoft: Defender Safe Links, Bing's link preview, Office checking that a linked
    # document exists, and Windows fetching a certificate revocation list.
    (
        "Microsoft",
        (
            "safe links",
            "safelinks",
            "bingpreview",
            "microsoft office existence discovery",
            "microsoft-cryptoapi",
        ),
    ),
    # Symantec (Broadcom) Email Security.cloud, formerly MessageLabs.
    ("Symantec", ("symantec", "broadcom", "messagelabs")),
    # Trend Micro Email Security and its web reputation checks.
    ("Trend Micro", ("trend micro", "trendmicro")),
    # Sophos Email time-of-click protection.
    ("Sophos", ("sophos",)),
    # Cisco Secure Email, formerly IronPort.
    ("Cisco", ("cisco", "ironport")),
    # FireEye Email Security, now Trellix.
    ("Trellix", ("fireeye", "trellix")),
    # Zscaler's cloud proxy sandbox.
    ("Zscaler", ("zscaler",)),
    # Forcepoint (formerly Websense) email and web security.
    ("Forcepoint", ("forcepoint", "websense")),
    # Check Point Harmony Email.
    ("Check Point", ("check point", "checkpoint")),
    # Fortinet FortiMail and FortiGuard URL rating.
    ("Fortinet", ("fortinet", "fortiguard", "fortimail")),
    # Google's link safety checks and crawler. Not Google-Read-Aloud: a person asked
    # to hear the page, so that visit is theirs.
    ("Google", ("google-safety", "googlebot")),
    # HTTP libraries and command-line tools: a script, not a mail client or browser.
    (
        "HTTP library",
        (
            "curl/",
            "wget/",
            "python-requests",
            "python-urllib",
            "go-http-client",
            "java/",
            "apache-httpclient",
            "libwww-perl",
        ),
    ),
    # Browsers without a screen, as sandboxes drive them.
    ("headless browser", ("headlesschrome", "phantomjs")),
)

BURST = timedelta(seconds=1)
# Clicks kept per message: enough to see any burst; a message clicked more is a scanner's.
_CLICKS_KEPT = 32


@dataclass(frozen=True)
class ClickVerdict:
    automated: bool
    reason: str


@dataclass
class _Message:
    delivered_at: datetime | None = None
    clicks: list[tuple[datetime, str]] = field(default_factory=list)


class ScannerDetector:
    """Judges clicks, remembering deliveries and clicks of the latest `max_messages` messages."""

    def __init__(self, *, after_delivery_seconds: float = 10.0, max_messages: int = 100_000) -> None:
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1 (got {max_messages})")
        self._after_delivery = timedelta(seconds=after_delivery_seconds)
        self._after_send = timedelta(seconds=after_delivery_seconds + 5)
        self._max_messages = max_messages
        self._messages: OrderedDict[str, _Message] = OrderedDict()

    def note_delivery(self, message_id: str, at: datetime) -> None:
        """Remember when the message was delivered (the earliest report wins)."""
        seen = self._message(message_id)
        if seen.delivered_at is None or at < seen.delivered_at:
            seen.delivered_at = at

    def note_click(self, message_id: str, link: str, at: datetime) -> None:
        """Remember a click before judging it, so every click of a burst that arrived
        together is known when the first of them is judged."""
        self._remember(self._message(message_id), at, link)

    def judge(
        self,
        message_id: str,
        link: str,
        at: datetime,
        user_agent: str | None,
        ip: str | None = None,
        mail_timestamp: datetime | None = None,
    ) -> ClickVerdict:
        """Whether this click was a machine's, and why; the click is remembered either way.

        `ip` is accepted so callers pass the whole click; no rule uses it yet.
        """
        seen = self._message(message_id)
        verdict = self._verdict(seen, link, at, user_agent, mail_timestamp)
        self._remember(seen, at, link)
        return verdict

    @staticmethod
    def _remember(seen: _Message, at: datetime, link: str) -> None:
        # Idempotent: a redelivered click is the same click, not a sibling of itself.
        if (at, link) not in seen.clicks:
            seen.clicks.append((at, link))
            del seen.clicks[:-_CLICKS_KEPT]

    def _verdict(
        self,
        seen: _Message,
        link: str,
        at: datetime,
        user_agent: str | None,
        mail_timestamp: datetime | None,
    ) -> ClickVerdict:
        agent = (user_agent or "").strip()
        if not agent:
            return ClickVerdict(True, "no user agent: a script, not a mail client")
        family = scanner_family(agent)
        if family is not None:
            return ClickVerdict(True, f"user agent {agent[:80]!r} is a security scanner or bot ({family})")
        if seen.delivered_at is not None:
            age = (at - seen.delivered_at).total_seconds()
            if age < 0:
                return ClickVerdict(True, f"clicked {-age:.0f} s before its delivery was reported")
            if age < self._after_delivery.total_seconds():
                return ClickVerdict(True, f"clicked {age:.0f} s after delivery")
        elif mail_timestamp is not None and at - mail_timestamp < self._after_send:
            return ClickVerdict(True, f"clicked {(at - mail_timestamp).total_seconds():.0f} s after sending")
        siblings = {other for when, other in seen.clicks if other != link and abs(when - at) <= BURST}
        if siblings:
            return ClickVerdict(True, f"{len(siblings) + 1} links clicked within 1 s")
        return ClickVerdict(False, "human")

    def _message(self, message_id: str) -> _Message:
        seen = self._messages.get(message_id)
        if seen is None:
            seen = self._messages[message_id] = _Message()
            if len(self._messages) > self._max_messages:
                self._messages.popitem(last=False)
        else:
            self._messages.move_to_end(message_id)
        return seen


def scanner_family(user_agent: str) -> str | None:
    """The family of scanner `user_agent` names, or None for an ordinary client."""
    lowered = user_agent.lower()
    for family, needles in SCANNER_AGENTS:
        if any(needle in lowered for needle in needles):
            return family
    return None
