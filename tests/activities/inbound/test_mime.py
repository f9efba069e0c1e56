"""parse_email: what mail clients send, as sender, recipients, thread ids and plain text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from activities.inbound.replies import ReplyParseError, classify, parse_email, strip_reply
from tests.activities.inbound.reply_corpus import FIXTURES, TODAY, read


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

