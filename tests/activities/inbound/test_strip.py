"""strip_reply: quoted history in every client's style, signatures and disclaimers go;
answers between quoted lines and content that only looks like a signature stay."""

from __future__ import annotations

import pytest

from activities.inbound.replies import strip_reply

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

