"""Inbound replies over the whole corpus (parse, strip, classify), read as a careful human
would. `pytest -s` prints the per-class accuracy table."""

from __future__ import annotations

from collections import Counter

import pytest

from activities.inbound.replies.classify import ReplyClass
from tests.activities.inbound.reply_corpus import CASES, FIXTURES, read
from workflows.models import ReplyEvent

COSTLY = {"unsubscribe", "negative"}  # read as interest, these would put a rep on a lead who said no


def expected(case: dict) -> ReplyClass | None:
    return None if case["intent"] == "none" else case["intent"]


def label(case: dict) -> str:
    intent = case["intent"]
    if intent in ("not_now", "auto_reply"):
        return f"{intent} ({'dated' if 'until' in case else 'no date'})"
    return intent


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

