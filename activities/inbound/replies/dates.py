"""The days a reply names, resolved against the lead's `today`: when a deferral says to
come back ("check back in 3 months") and when an out-of-office says they return ("back
on the 14th"). `classify` decides what a reply means; this module only reads the calendar.

A day without a year is the next one on or after `today`; a weekday is the next
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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class When:
    """A time expression in a text: where it stands, its words, and the day it means."""

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


def times_in(text: str, today: date) -> list[When]:
    """Every time expression in the text, in order; where two overlap, the longer."""
    found = [
        When(match.start(), match.end(), match.group(0), *resolved)
        for pattern, resolve in _TIME_RULES
        for match in pattern.finditer(text)
        if (resolved := resolve(match, today)) is not None
    ]
    chosen: list[When] = []
    for when in sorted(found, key=lambda w: (-(w.end - w.start), w.start)):
        if all(when.end <= other.start or when.start >= other.end for other in chosen):
            chosen.append(when)
    return sorted(chosen, key=lambda w: w.start)


# ------------------------------------------------------------------- out-of-office returns

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


def return_date(body: str, today: date) -> tuple[date, str] | None:
    """The day back: after "back / returning" as written, after "until / through" the day after."""
    back: tuple[date, str] | None = None
    until: tuple[date, str] | None = None
    for when in times_in(body, today):
        before = body[max(0, when.start - 40) : when.start]
        before = before[max(before.rfind(". "), before.rfind("\n")) + 1 :]
        if back is None and (anchor := _BACK.search(before)):
            back = (when.day, anchor.group(0) + when.words)
        elif until is None and (anchor := _UNTIL.search(before)):
            until = (when.day + timedelta(days=1) if when.exact else when.day, anchor.group(0) + when.words)
    return back or until
