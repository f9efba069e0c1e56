"""The days a reply names, as `classify` reports them: deferrals and out-of-office returns."""

from __future__ import annotations

from datetime import date

import pytest

from activities.inbound.replies import classify
from tests.activities.inbound.reply_corpus import TODAY


def until(text: str, today: date = TODAY) -> date | None:
    result = classify(text, today=today)
    assert result.intent == "not_now", result
    return result.until


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        # the year rolls over to the next occurrence
        ("Check back in January.", date(2026, 11, 23), date(2027, 1, 1)),
        ("Check back in January.", date(2025, 12, 31), date(2026, 1, 1)),
        ("Check back in January.", date(2026, 1, 15), date(2027, 1, 1)),
        ("Check back in December.", date(2026, 11, 23), date(2026, 12, 1)),
        # "after Q3" when Q3 is over means next year's; during Q3, this year's
        ("Reach out after Q3.", date(2026, 11, 23), date(2027, 10, 1)),
        ("Reach out after Q3.", date(2026, 8, 10), date(2026, 10, 1)),
        ("Reach out after Q4.", date(2026, 11, 23), date(2027, 1, 1)),
        ("Reach out in Q2 2027.", date(2026, 11, 23), date(2027, 4, 1)),
        ("Circle back at the end of Q1.", date(2026, 11, 23), date(2027, 3, 1)),
        ("Try me next quarter.", date(2026, 11, 23), date(2027, 1, 1)),
        ("Try me next quarter.", date(2026, 2, 10), date(2026, 4, 1)),
        ("Try me again next year.", date(2026, 11, 23), date(2027, 1, 1)),
        ("Try me again mid next year.", date(2026, 11, 23), date(2027, 7, 1)),
        ("Ping me next month.", date(2026, 12, 31), date(2027, 1, 1)),
        ("Ping me next week.", date(2026, 11, 25), date(2026, 11, 30)),
        # seasons: meteorological starts, next occurrence
        ("Let's revisit in the winter.", date(2026, 11, 23), date(2026, 12, 1)),
        ("Let's revisit in the spring.", date(2026, 11, 23), date(2027, 3, 1)),
        ("Let's revisit in the fall.", date(2026, 11, 23), date(2027, 9, 1)),
        ("Let's revisit in the autumn.", date(2026, 11, 23), date(2027, 9, 1)),
        ("Check back after the summer.", date(2026, 11, 23), date(2027, 9, 1)),
        ("Let's revisit in the spring.", date(2027, 3, 10), date(2028, 3, 1)),
        # holidays and year ends
        ("Let's revisit after the holidays.", date(2026, 11, 23), date(2027, 1, 4)),
        ("Ask me again in the new year.", date(2026, 11, 23), date(2027, 1, 1)),
        ("Follow up after Thanksgiving.", date(2026, 11, 23), date(2026, 11, 30)),
        ("Check back at the end of the year.", date(2026, 10, 5), date(2026, 12, 1)),
        ("Check back at the end of the year.", date(2026, 12, 15), date(2026, 12, 16)),
        ("Not until 2028, sorry.", date(2026, 11, 23), date(2028, 1, 1)),
        # spans of time, with month-end clamping
        ("Check back in 3 months.", date(2026, 11, 23), date(2027, 2, 23)),
        ("Check back in 3 months.", date(2026, 11, 30), date(2027, 2, 28)),
        ("Check back in a month.", date(2027, 1, 31), date(2027, 2, 28)),
        ("Check back in a month.", date(2028, 1, 31), date(2028, 2, 29)),
        ("Reach out in a couple of months.", date(2026, 11, 23), date(2027, 1, 23)),
        ("Reach out in 2-3 months.", date(2026, 11, 23), date(2027, 1, 23)),
        ("Give it a few weeks and check back.", date(2026, 11, 23), date(2026, 12, 14)),
        ("Ping me in 2 weeks.", date(2026, 11, 23), date(2026, 12, 7)),
        ("Touch base this time next year.", date(2028, 2, 29), date(2029, 2, 28)),
        ("Ping me mid-February.", date(2026, 11, 23), date(2027, 2, 15)),
        ("Check back end of January.", date(2026, 11, 23), date(2027, 1, 21)),
    ],
)
def test_not_now_dates(text: str, today: date, expected: date) -> None:
    assert until(text, today) == expected


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("I am out of the office and back on Monday 14 December.", date(2026, 11, 23), date(2026, 12, 14)),
        ("I am out of the office, returning 12/14.", date(2026, 11, 23), date(2026, 12, 14)),
        ("I am out of the office, returning 14/12.", date(2026, 11, 23), date(2026, 12, 14)),
        ("I'm away, back on 4.12.2026.", date(2026, 11, 23), date(2026, 12, 4)),
        # "until X" is away through X: back the day after
        ("I am out of the office until 2026-12-14.", date(2026, 11, 23), date(2026, 12, 15)),
        ("I'm away until January 5th.", date(2026, 11, 23), date(2027, 1, 6)),
        ("I am on leave from 20 November through 1 December.", date(2026, 11, 23), date(2026, 12, 2)),
        ("I am out of the office 12/20 - 1/3.", date(2026, 12, 21), date(2027, 1, 4)),
        # a period is not a day: "until next week" is back next Monday
        ("I am away until next week.", date(2026, 11, 25), date(2026, 11, 30)),
        # "back on" wins over "until"
        ("I'm away until Friday, back on Monday 30 November.", date(2026, 11, 23), date(2026, 11, 30)),
        # ordinals and weekdays: the next one (a weekday strictly after today)
        ("I'm out of office, back on the 3rd.", date(2026, 11, 23), date(2026, 12, 3)),
        ("I'm out of office, back on the 31st.", date(2026, 11, 23), date(2026, 12, 31)),
        ("I'm out of office, back on the 30th.", date(2027, 2, 5), date(2027, 3, 30)),
        ("I'm out of office, back Monday.", date(2026, 11, 23), date(2026, 11, 30)),
        # a date without a year is the next one on or after today; one that lands over
        # MAX_AWAY_DAYS away (a date just past) is ignored rather than pausing for a year
        ("I'm out of office, back on November 20.", date(2026, 11, 23), None),
        ("I'm out of office, back on February 29.", date(2026, 11, 23), date(2027, 2, 28)),
        ("I'm out of office with limited access to email.", date(2026, 11, 23), None),
    ],
)
def test_out_of_office_return_dates(text: str, today: date, expected: date | None) -> None:
    result = classify(text, today=today)
    assert (result.intent, result.until) == ("auto_reply", expected), result.explanation

