"""What a stripped reply means for the lead: an intent, the day it names, and why.

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

The days a reply names are read by `dates`; an out-of-office's return date more than
`MAX_AWAY_DAYS` ahead is ignored (a date just past, rolled over to next year).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from activities.inbound.replies.dates import When, return_date, times_in

# The same values as workflows.models.ReplyIntent (a test keeps them equal).
ReplyClass = Literal["positive", "question", "not_now", "negative", "unsubscribe", "auto_reply"]


@dataclass(frozen=True)
class Classification:
    intent: ReplyClass | None
    until: date | None
    explanation: str


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
        back = return_date(body, today)
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


def _deferral(body: str, sentences: list[tuple[int, int]], today: date) -> tuple[When, str] | None:
    """The time a deferral names, and the words that say so. Best first: a time in the
    sentence of a deferral (or a meeting verb), then of a not-now reason (or a hedge), then
    the same one sentence away. Meeting verbs and hedges count only in the same sentence
    and for a time at least two weeks out."""
    times = [
        when
        for when in times_in(body, today)
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
    best: tuple[tuple[int, int], When, _Hit] | None = None
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
