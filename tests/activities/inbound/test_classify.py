"""classify: which rule wins, what it explains, and that it is the workflow's contract."""

from __future__ import annotations

from datetime import date
from typing import get_args

import pytest

from activities.inbound.replies import Classification, classify
from activities.inbound.replies.classify import ReplyClass
from tests.activities.inbound.reply_corpus import TODAY
from workflows.models import ReplyIntent


def test_reply_class_is_the_workflows_reply_intent() -> None:
    assert get_args(ReplyClass) == get_args(ReplyIntent)


@pytest.mark.parametrize(
    ("text", "subject", "headers"),
    [
        ("Thanks for your message.", "", {"Auto-Submitted": "auto-replied"}),
        ("Thanks for your message.", "", {"auto-submitted": "auto-generated"}),
        ("Thanks for your message.", "", {"X-Autoreply": "yes"}),
        ("Thanks for your message.", "", {"X-Autorespond": "yes"}),
        ("Thanks for your message.", "", {"Precedence": "auto_reply"}),
        ("Thanks for your message.", "Automatic reply: Following up", {}),
        ("Thanks for your message.", "Out of Office", {}),
        ("Thanks for your message.", "Abwesenheitsnotiz: Angebot", {}),
        ("I'm currently away and will respond when I return.", "Re: Following up", {}),
        # an auto-reply that quotes unsubscribe words is still an auto-reply
        ("This is an automated response. To unsubscribe from news, visit…", "", {"Auto-Submitted": "x"}),
    ],
)
def test_auto_replies_by_header_subject_or_body(text: str, subject: str, headers: dict[str, str]) -> None:
    assert classify(text, subject=subject, auto_headers=headers, today=TODAY).intent == "auto_reply"


@pytest.mark.parametrize(
    "headers",
    [{"Precedence": "bulk"}, {"Precedence": "list"}, {"List-Id": "<news.acme.example>"},
     {"X-Auto-Response-Suppress": "All"}, {"Auto-Submitted": "no"}],
)
def test_list_and_bulk_headers_alone_are_not_an_out_of_office(headers: dict[str, str]) -> None:
    assert classify("Sounds interesting, let's talk.", auto_headers=headers, today=TODAY).intent == "positive"


def test_an_out_of_office_in_the_past_tense_is_a_human_reply() -> None:
    result = classify("Sorry, I was out of the office last week. Let's set up a call.", today=TODAY)
    assert result.intent == "positive"


@pytest.mark.parametrize(
    ("text", "intent", "until_"),
    [
        # unsubscribe beats every other meaning
        ("Take me off your list. Maybe check back next year, but probably not.", "unsubscribe", None),
        ("Not interested. Please stop emailing me.", "unsubscribe", None),
        # "don't contact me until…" is a deferral; "don't unsubscribe me" is not an unsubscribe
        ("Don't contact me until March.", "not_now", date(2027, 3, 1)),
        ("Please don't unsubscribe me, I read these. Sounds interesting.", "positive", None),
        # a no with a date is a not-now
        ("We went with another vendor, but check back in a year.", "not_now", date(2027, 11, 23)),
        ("Not interested right now, maybe next year.", "not_now", date(2027, 1, 1)),
        # a no beats a question
        ("Not interested. Out of curiosity, who else uses this?", "negative", None),
        ("Thanks, but we've decided not to move forward.", "negative", None),
        ("We're happy with our current provider.", "negative", None),
        # a question beats a not-now without a date
        ("No rush, but can you send pricing?", "question", None),
        ("No budget right now, but what does it cost for 10 trucks?", "question", None),
        # negated or hedged interest is not interest
        ("I'm not sure we're interested.", None, None),
        ("Interested in principle, but there's a hiring freeze.", "not_now", None),
        ("Not a priority right now.", "not_now", None),
        ("No budget this year.", "not_now", None),
        # meeting soon is scheduling, meeting later is a deferral
        ("Let's talk Tuesday.", "positive", None),
        ("Does Thursday at 2 work for you?", "positive", None),
        ("Let's talk in January.", "not_now", date(2027, 1, 1)),
        ("Yes, let's talk.", "positive", None),
        ("Can you send the deck?", "question", None),
        ("How does billing work?", "question", None),
        # anything else: a rep reads it
        ("Thanks", None, None),
        ("Got it, thanks.", None, None),
        ("Forwarding to my colleague Jim.", None, None),
        ("I'm not the right person. Can you talk to Ana Ruiz?", None, None),
        ("How did you get my email?", None, None),
        ("", None, None),
    ],
)
def test_precedence_negations_and_the_rest(text: str, intent: str | None, until_: date | None) -> None:
    result = classify(text, today=TODAY)
    assert (result.intent, result.until) == (intent, until_), result.explanation


def test_unsubscribe_by_subject_alone() -> None:
    assert classify("", subject="Re: Unsubscribe", today=TODAY).intent == "unsubscribe"
    assert classify("", subject="Re: How to unsubscribe a user from alerts", today=TODAY).intent is None


def test_the_explanation_names_the_rule_the_words_and_the_date() -> None:
    result = classify("Timing is bad. Can you check back in 3 months?", today=TODAY)
    explanation = "not now: 'check back in 3 months' -> 2027-02-23"
    assert result == Classification("not_now", date(2027, 2, 23), explanation)
    assert classify("Not interested, thanks.", today=TODAY).explanation == "negative: 'Not interested'"


def test_classification_is_deterministic() -> None:
    text = "We're locked in until March 2027. Feel free to get in touch in February."
    results = {classify(text, today=TODAY) for _ in range(3)}
    assert len(results) == 1
    assert next(iter(results)).until == date(2027, 2, 1)


def test_an_out_of_office_date_just_past_is_not_read_as_a_year_away() -> None:
    verdict = classify(
        "I am out of the office and will be back on November 20.",
        subject="Out of Office",
        auto_headers={"auto-submitted": "auto-replied"},
        today=date(2026, 11, 23),
    )
    assert verdict.intent == "auto_reply" and verdict.until is None
    assert "ignored" in verdict.explanation
