"""Inbound replies (activities/inbound/replies/): parse what mail clients send, keep the new
text, and read it as a careful human would.

The corpus in tests/fixtures/replies/ is raw MIME as Gmail, Outlook (web, desktop,
mobile, classic), Apple Mail, iPhone, Thunderbird, help desks and auto-responders send
it; expected.toml holds what a human made of each reply, written before the rules were
tuned. `pytest -s` prints the per-class accuracy table.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import get_args

import pytest

from activities.inbound.replies import (
    Classification,
    InboundEmail,
    ReplyParseError,
    classify,
    parse_email,
    strip_reply,
)
from activities.inbound.replies.classify import ReplyClass
from workflows.models import ReplyEvent, ReplyIntent

FIXTURES = Path(__file__).parent.parent / "fixtures" / "replies"
MANIFEST = tomllib.loads((FIXTURES / "expected.toml").read_text(encoding="utf-8"))
TODAY: date = MANIFEST["today"]
CASES: dict[str, dict] = MANIFEST["cases"]
COSTLY = {"unsubscribe", "negative"}  # read as interest, these would put a rep on a lead who said no


def read(name: str) -> tuple[InboundEmail, str, Classification]:
    message = parse_email((FIXTURES / f"{name}.eml").read_bytes())
    text = strip_reply(message.text)
    result = classify(text, subject=message.subject, auto_headers=message.auto_headers, today=TODAY)
    return message, text, result


def expected(case: dict) -> ReplyClass | None:
    return None if case["intent"] == "none" else case["intent"]


def label(case: dict) -> str:
    intent = case["intent"]
    if intent in ("not_now", "auto_reply"):
        return f"{intent} ({'dated' if 'until' in case else 'no date'})"
    return intent


# ------------------------------------------------------------------------------ corpus


def test_every_fixture_is_in_the_manifest_and_every_class_has_ten_cases() -> None:
    on_disk = {path.stem for path in FIXTURES.glob("*.eml")}
    assert on_disk == set(CASES)
    counts = Counter(label(case) for case in CASES.values())
    assert set(counts) == {
        "positive", "question", "not_now (dated)", "not_now (no date)", "negative",
        "unsubscribe", "auto_reply (dated)", "auto_reply (no date)", "none",
    }
    assert min(counts.values()) >= 10, counts
    assert len(CASES) >= 90


def test_the_corpus_is_read_as_a_careful_human_would() -> None:
    totals: Counter[str] = Counter()
    right: Counter[str] = Counter()
    wrong: list[str] = []
    costly: list[str] = []
    wrong_dates: list[str] = []
    for name, case in sorted(CASES.items()):
        _, _, got = read(name)
        want = expected(case)
        totals[label(case)] += 1
        if got.intent == want:
            right[label(case)] += 1
            if got.until != case.get("until"):
                wrong_dates.append(f"{name}: until {got.until}, expected {case.get('until')}")
        else:
            wrong.append(f"{name}: {got.intent}, expected {want} ({got.explanation})")
        if want in COSTLY and got.intent in ("positive", "question"):
            costly.append(name)

    lines = [f"{'class':<22}{'right':>7}{'cases':>7}{'accuracy':>10}"]
    for key in sorted(totals):
        lines.append(f"{key:<22}{right[key]:>7}{totals[key]:>7}{right[key] / totals[key]:>10.1%}")
    overall = sum(right.values()) / sum(totals.values())
    lines.append(f"{'overall':<22}{sum(right.values()):>7}{sum(totals.values()):>7}{overall:>10.1%}")
    print("\n" + "\n".join(lines + wrong + wrong_dates))

    assert overall >= 0.95, wrong
    assert not costly, f"a no read as interest: {costly}"
    assert not wrong_dates


OUR_WORDS = (
    "Brightline Logistics cut", "walk through pricing", "touchpoint.example/u/", "stay out of your inbox",
    "ROI worksheet", "I'll close this out", "Wäre ein kurzes", "wrote:", "Sent from my", "-----",
)


@pytest.mark.parametrize("name", sorted(CASES))
def test_quoted_history_never_reaches_the_classifier(name: str) -> None:
    # Every fixture quotes one of our touches; their words must be gone after stripping.
    _, text, _ = read(name)
    for ours in OUR_WORDS:
        assert ours not in text, ours


def test_explanations_fit_the_reply_event_and_name_the_words() -> None:
    for name in CASES:
        _, _, got = read(name)
        # The workflow's signal model takes the result as it is (explanation up to 500 characters).
        ReplyEvent(event_id=name, intent=got.intent, until=got.until, explanation=got.explanation)
        assert got.explanation
        if got.until:
            assert got.until.isoformat() in got.explanation


def test_reply_class_is_the_workflows_reply_intent() -> None:
    assert get_args(ReplyClass) == get_args(ReplyIntent)


# -------------------------------------------------------------------------- parse_email


def message(headers: str, body: str = "Hello", *, content_type: str = "text/plain; charset=utf-8") -> bytes:
    return (f"{headers.strip()}\nContent-Type: {content_type}\nMIME-Version: 1.0\n\n{body}").encode()


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "empty message"),
        (b"  \r\n\r\n ", "empty message"),
        (b"\x00\xff\xfe\x01garbage without any structure", "not a MIME message: no headers"),
        (b"just some text\nwith lines but no headers\n", "not a MIME message: no headers"),
        (b"Subject: hello\nTo: sam@touchpoint.example\n\nbody", "no From header"),
        (b"From: undisclosed\nSubject: hi\n\nbody", "no sender address in the From header"),
    ],
)
def test_what_cannot_be_attributed_to_a_sender_is_refused_with_the_reason(raw: bytes, why: str) -> None:
    with pytest.raises(ReplyParseError, match=why):
        parse_email(raw)


def test_text_instead_of_bytes_is_refused() -> None:
    with pytest.raises(ReplyParseError, match="bytes"):
        parse_email("From: a@b.example\n\nhi")  # type: ignore[arg-type]


def test_a_message_without_a_body_is_valid_with_empty_text() -> None:
    parsed = parse_email(b"From: Dana <dana@acme.example>\nSubject: Unsubscribe\n\n")
    assert parsed.text == ""
    assert parsed.subject == "Unsubscribe"
    assert classify(strip_reply(parsed.text), subject=parsed.subject, today=TODAY).intent == "unsubscribe"


def test_a_message_with_only_an_attachment_has_empty_text() -> None:
    raw = (
        b"From: dana@acme.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=x.pdf\n"
        b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n"
    )
    assert parse_email(raw).text == ""


def test_headers_are_decoded_and_addresses_bare() -> None:
    parsed = parse_email(
        message(
            """
From: =?utf-8?q?Reyes=2C_Dana?= <Dana.Reyes@ACME.Example>
To: Sam Lee <sam@touchpoint.example>, "Ops, Team" <ops@touchpoint.example>
Cc: sam@TOUCHPOINT.example, Jim <jim@acme.example>
Delivered-To: sam@touchpoint.example
X-Original-To: reply+abc@in.touchpoint.example
Subject: =?UTF-8?B?UmU6IFF1aWNrIHF1ZXN0aW9uIOKAlCBBY21l?=
Message-ID: <CAH123@mail.gmail.com>
In-Reply-To: <touch-2@touchpoint.example>
References: <touch-1@touchpoint.example>
 <touch-2@touchpoint.example> <touch-3@touchpoint.example>
Date: Mon, 23 Nov 2026 11:02:37 -0600
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
List-Id: <sales.acme.example>
X-Unrelated: yes
"""
        )
    )
    assert parsed.from_address == "Dana.Reyes@acme.example"
    assert parsed.recipients == (
        "sam@touchpoint.example",
        "ops@touchpoint.example",
        "jim@acme.example",
        "reply+abc@in.touchpoint.example",
    )
    assert parsed.subject == "Re: Quick question \u2014 Acme"
    assert parsed.message_id == "CAH123@mail.gmail.com"
    assert parsed.thread_ids == (
        "touch-2@touchpoint.example", "touch-1@touchpoint.example", "touch-3@touchpoint.example",
    )
    assert parsed.date == datetime(2026, 11, 23, 11, 2, 37, tzinfo=timezone(timedelta(hours=-6)))
    assert parsed.auto_headers == {
        "auto-submitted": "auto-replied",
        "x-auto-response-suppress": "All",
        "list-id": "<sales.acme.example>",
    }


def test_missing_or_broken_optional_headers_are_none() -> None:
    parsed = parse_email(message("From: dana@acme.example\nDate: the day after tomorrow"))
    assert (parsed.message_id, parsed.date, parsed.thread_ids, parsed.subject) == (None, None, (), "")
    assert parsed.recipients == ()


def test_quoted_printable_base64_and_unknown_charsets_are_decoded() -> None:
    qp = parse_email(
        message(
            "From: a@b.example\nContent-Transfer-Encoding: quoted-printable", "Gr=C3=BC=C3=9Fe, let=\n's talk"
        )
    )
    assert qp.text == "Grüße, let's talk"
    b64 = parse_email(message("From: a@b.example\nContent-Transfer-Encoding: base64", "UHJpY2luZz8K"))
    assert b64.text == "Pricing?"
    odd = parse_email(
        message("From: a@b.example", "caf\u00e9", content_type='text/plain; charset="x-klingon"')
    )
    assert odd.text == "café"


def test_format_flowed_lines_are_joined() -> None:
    parsed = parse_email(
        message(
            "From: a@b.example",
            "Can you check back \nin 3 months?\n-- \nDana",
            content_type="text/plain; format=flowed",
        )
    )
    assert parsed.text.split("\n")[0] == "Can you check back in 3 months?"
    assert strip_reply(parsed.text) == "Can you check back in 3 months?"


def test_text_plain_is_preferred_to_html() -> None:
    _, text, _ = read("positive-01-gmail")
    assert text.startswith("Hi Sam,\n\nThis sounds interesting.")


@pytest.mark.parametrize(
    "name",
    ["positive-04-html-owa", "not_now_undated-05-html-desktop", "question-13-html-apple",
     "not_now_undated-12-html-thunderbird", "question-05-html-crm"],
)
def test_html_only_mail_becomes_text_without_the_quoted_blocks(name: str) -> None:
    # Outlook's divRplyFwdMsg and border-top header, Apple's and Thunderbird's
    # blockquote, a gmail_quote div: the quoted touch is gone before stripping.
    parsed = parse_email((FIXTURES / f"{name}.eml").read_bytes())
    assert "<" not in parsed.text and "&nbsp;" not in parsed.text
    assert "From:" not in parsed.text and "wrote:" not in parsed.text
    assert "Touchpoint" not in parsed.text


def test_html_lines_and_paragraphs_read_as_written() -> None:
    html = (
        "<html><head><style>p {margin:0}</style></head><body>"
        "<div>Sounds good.</div><div><br></div><div>Can you send pricing?</div>"
        "<p>A paragraph &amp; more</p><ul><li>one</li><li>two</li></ul>"
        '<div class="gmail_quote">On Mon wrote:<blockquote>quoted <b>unsubscribe</b></blockquote></div>'
        "</body></html>"
    )
    parsed = parse_email(message("From: a@b.example", html, content_type="text/html; charset=utf-8"))
    assert parsed.text == "Sounds good.\n\nCan you send pricing?\n\nA paragraph & more\n\n- one\n- two"


# -------------------------------------------------------------------------- strip_reply

QUOTE = "> Would it help to walk through pricing?\n> If you'd rather not hear from me, reply \"unsubscribe\"."
SAM = "Sam Lee <sam@touchpoint.example>"


@pytest.mark.parametrize(
    "history",
    [
        # Gmail, the attribution on one line and wrapped over two
        f"On Mon, Nov 23, 2026 at 9:14 AM {SAM} wrote:\n\n{QUOTE}",
        f"On Mon, Nov 23, 2026 at 9:14 AM Jordan Blake <jordan.blake@touchpoint.example>\nwrote:\n\n{QUOTE}",
        # Apple Mail; iPhone quotes the attribution itself
        f"On Nov 23, 2026, at 09:14, {SAM} wrote:\n\n{QUOTE}",
        f"Sent from my iPhone\n\n> On Nov 23, 2026, at 9:14 AM, {SAM} wrote:\n>\n{QUOTE}",
        # Thunderbird
        f"On 11/23/26 9:14 AM, Sam Lee wrote:\n{QUOTE}",
        # Outlook: the header block, the classic separator, the mobile separator
        f"From: {SAM}\nSent: Monday, November 23, 2026 9:14 AM\nTo: Dana Reyes <dana@acme.example>\n"
        "Subject: Following up\n\nWould it help to walk through pricing?",
        "-----Original Message-----\nFrom: Sam Lee [mailto:sam@touchpoint.example]\n"
        "Sent: Monday, November 23, 2026 9:14 AM\nSubject: Following up\n\nunsubscribe?",
        "Get Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\n"
        f"From: {SAM}\nSent: Monday, November 23, 2026 9:14:02 AM\nTo: Dana Reyes\nSubject: Hi\n\npricing?",
        # French and German clients
        f"Le lun. 23 nov. 2026 à 09:14, {SAM} a écrit :\n{QUOTE}",
        f"Am Mo., 23. Nov. 2026 um 09:14 Uhr schrieb {SAM}:\n{QUOTE}",
        f"Von: {SAM}\nGesendet: Montag, 23. November 2026 09:14\nAn: Marcus Feld\nBetreff: Hallo\n\nPreise?",
        # Forwarded
        f"---------- Forwarded message ---------\nFrom: {SAM}\nDate: Mon, Nov 23, 2026\n\npricing?",
    ],
)
def test_quoted_history_is_dropped_in_every_client_style(history: str) -> None:
    assert strip_reply(f"Call me.\n\n{history}") == "Call me."


def test_answers_written_between_quoted_lines_are_kept() -> None:
    reply = (
        f"On Mon, Nov 23, 2026 at 9:14 AM {SAM} wrote:\n"
        "> Would Tuesday work?\n\nYes, Tuesday works.\n\n> And is pricing per user?\n\nPer truck, please.\n"
    )
    assert strip_reply(reply) == "Yes, Tuesday works.\n\nPer truck, please."


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nDana Reyes\nVP Ops | Acme Freight\n+1 312 555 0142",
        "Sent from my iPhone",
        "Get Outlook for Android",
        "Best,\nDana\nVP Operations | Acme Freight\n(312) 555-0142\nacme.example",
        "Thanks, Dana",
        "-Dana",
        "Kind regards\nDana Reyes\n\nCONFIDENTIALITY NOTICE: This e-mail is intended only for the named "
        "recipient and may contain confidential information.",
    ],
)
def test_signatures_and_disclaimers_are_dropped(signature: str) -> None:
    assert strip_reply(f"Let's talk Tuesday.\n\n{signature}") == "Let's talk Tuesday."


@pytest.mark.parametrize(
    "reply",
    [
        "Thanks, that sounds great. Let's set up a call next week.",
        "Sounds good.\n\nThanks,\nDana\n\nP.S. Can you also send pricing for 25 trucks?",
        "What we need:\n- Pricing\n- Integrations\n- A trial",
        "Best time for us is mornings.\nCheers to that, by the way.",
        "On Tuesday I wrote: we need this before Q2.",
        "Thanks!",
    ],
)
def test_real_content_that_looks_like_a_signature_is_kept(reply: str) -> None:
    assert strip_reply(reply) == reply


# ----------------------------------------------------------------------- date resolution


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


# ------------------------------------------------------------------------ classification


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
    from datetime import date

    from activities.inbound.replies import classify

    verdict = classify(
        "I am out of the office and will be back on November 20.",
        subject="Out of Office",
        auto_headers={"auto-submitted": "auto-replied"},
        today=date(2026, 11, 23),
    )
    assert verdict.intent == "auto_reply" and verdict.until is None
    assert "ignored" in verdict.explanation
