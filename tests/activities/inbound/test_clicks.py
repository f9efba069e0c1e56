"""Clicks a security scanner made are not interest; a person's click is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activities.inbound.clicks import SCANNER_AGENTS, ScannerDetector, scanner_family

SENT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DELIVERED = SENT + timedelta(seconds=2)
LATER = DELIVERED + timedelta(hours=3)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
PEOPLE = [
    CHROME,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Mozilla/5.0 (compatible; Google-Read-Aloud; +https://support.google.com/webmasters/answer/1061943)",
]
# As the products announce themselves (family, agent).
SCANNERS = [
    ("Barracuda", "Mozilla/5.0 (compatible; Barracuda Sentinel URL Scanner)"),
    ("Proofpoint", "ppops-5f3a9e21-7c44-4d0b"),
    ("Proofpoint", "Mozilla/5.0 (compatible; Proofpoint URL Defense)"),
    ("Mimecast", "Mimecast URL Protect"),
    ("Microsoft", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b"),
    ("Microsoft", "Microsoft Office Existence Discovery"),
    ("Microsoft", "Microsoft-CryptoAPI/10.0"),
    ("Symantec", "Symantec Email Security.cloud link follower"),
    ("Trend Micro", "TrendMicro-WebReputation/1.0"),
    ("Sophos", "Sophos Time-of-Click"),
    ("Cisco", "Cisco Secure Email URL Analysis"),
    ("Cisco", "IronPort-URL-Scanner"),
    ("Trellix", "FireEye-ETP"),
    ("Zscaler", "Mozilla/5.0 Zscaler Sandbox"),
    ("Forcepoint", "Forcepoint ThreatSeeker"),
    ("Check Point", "Check Point Harmony Email"),
    ("Fortinet", "FortiGuard URL rating"),
    ("Google", "Google-Safety"),
    ("Google", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    ("HTTP library", "curl/8.5.0"),
    ("HTTP library", "python-requests/2.32.3"),
    ("HTTP library", "Go-http-client/1.1"),
    ("HTTP library", "Java/17.0.2"),
    ("HTTP library", "Wget/1.21.4"),
    ("headless browser", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36"),
    ("headless browser", "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1"),
]


def delivered(detector: ScannerDetector | None = None, message_id: str = "m-1") -> ScannerDetector:
    detector = detector or ScannerDetector()
    detector.note_delivery(message_id, DELIVERED)
    return detector


# --------------------------------------------------------------------- user agents


@pytest.mark.parametrize(("family", "agent"), SCANNERS)
def test_a_known_scanner_agent_is_automated_and_named(family: str, agent: str) -> None:
    verdict = delivered().judge("m-1", "https://x.example/a", LATER, agent)
    assert verdict.automated
    assert f"({family})" in verdict.reason and "security scanner" in verdict.reason


@pytest.mark.parametrize(
    ("family", "needle"), [(family, needle) for family, needles in SCANNER_AGENTS for needle in needles]
)
def test_every_listed_substring_matches_in_any_case(family: str, needle: str) -> None:
    assert scanner_family(f"Mozilla/5.0 ({needle.upper()})") == family
    assert scanner_family(needle.title()) == family


@pytest.mark.parametrize("agent", [None, "", "   "])
def test_a_click_without_a_user_agent_is_automated(agent: str | None) -> None:
    verdict = delivered().judge("m-1", "https://x.example/a", LATER, agent)
    assert verdict.automated and "no user agent" in verdict.reason


@pytest.mark.parametrize("agent", PEOPLE)
def test_browsers_and_read_aloud_are_people(agent: str) -> None:
    assert scanner_family(agent) is None
    assert delivered().judge("m-1", "https://x.example/a", LATER, agent).automated is False


def test_a_long_scanner_agent_is_shortened_in_the_reason() -> None:
    verdict = delivered().judge("m-1", "https://x.example/a", LATER, "Barracuda " + "x" * 500)
    assert verdict.automated and len(verdict.reason) < 200


# ---------------------------------------------------------------------- timing


def test_a_click_seconds_after_delivery_is_a_scanner() -> None:
    verdict = delivered().judge("m-1", "https://x.example/a", DELIVERED + timedelta(seconds=4), CHROME)
    assert verdict.automated and verdict.reason == "clicked 4 s after delivery"


def test_a_click_after_the_window_is_a_person() -> None:
    detector = delivered()
    assert not detector.judge("m-1", "https://x.example/a", DELIVERED + timedelta(seconds=10), CHROME).automated


def test_a_click_before_the_delivery_was_reported_is_a_scanner() -> None:
    verdict = delivered().judge("m-1", "https://x.example/a", DELIVERED - timedelta(seconds=1), CHROME)
    assert verdict.automated and "before its delivery" in verdict.reason


def test_the_window_is_configurable() -> None:
    detector = delivered(ScannerDetector(after_delivery_seconds=60))
    verdict = detector.judge("m-1", "https://x.example/a", DELIVERED + timedelta(seconds=45), CHROME)
    assert verdict.automated and verdict.reason == "clicked 45 s after delivery"


def test_without_a_delivery_the_send_time_allows_five_more_seconds() -> None:
    detector = ScannerDetector()
    early = detector.judge("m-1", "https://x.example/a", SENT + timedelta(seconds=14), CHROME, mail_timestamp=SENT)
    late = detector.judge("m-2", "https://x.example/a", SENT + timedelta(seconds=15), CHROME, mail_timestamp=SENT)
    assert early.automated and early.reason == "clicked 14 s after sending"
    assert not late.automated


def test_a_known_delivery_wins_over_the_send_time() -> None:
    detector = ScannerDetector()
    detector.note_delivery("m-1", SENT + timedelta(seconds=30))
    verdict = detector.judge("m-1", "https://x.example/a", SENT + timedelta(seconds=33), CHROME, mail_timestamp=SENT)
    assert verdict.reason == "clicked 3 s after delivery"


def test_without_any_time_to_compare_a_browser_click_is_a_person() -> None:
    assert ScannerDetector().judge("m-1", "https://x.example/a", SENT, CHROME).reason == "human"


def test_the_earliest_reported_delivery_counts() -> None:
    detector = ScannerDetector()
    detector.note_delivery("m-1", DELIVERED)
    detector.note_delivery("m-1", DELIVERED + timedelta(minutes=5))
    assert not detector.judge("m-1", "https://x.example/a", DELIVERED + timedelta(minutes=4), CHROME).automated


# ----------------------------------------------------------------------- bursts


def test_links_clicked_in_the_same_second_are_a_scanner_after_the_first() -> None:
    """The first click of a burst passes (its siblings have not arrived): a documented limit."""
    detector = delivered()
    first = detector.judge("m-1", "https://x.example/a", LATER, CHROME)
    second = detector.judge("m-1", "https://x.example/b", LATER + timedelta(milliseconds=300), CHROME)
    third = detector.judge("m-1", "https://x.example/c", LATER + timedelta(milliseconds=900), CHROME)
    assert not first.automated
    assert second.automated and second.reason == "2 links clicked within 1 s"
    assert third.automated and third.reason == "3 links clicked within 1 s"


def test_a_burst_member_arriving_out_of_order_is_caught() -> None:
    detector = delivered()
    detector.judge("m-1", "https://x.example/a", LATER + timedelta(milliseconds=800), CHROME)
    assert detector.judge("m-1", "https://x.example/b", LATER, CHROME).automated


def test_a_first_link_revisited_inside_the_burst_is_a_scanner_too() -> None:
    detector = delivered()
    detector.judge("m-1", "https://x.example/a", LATER, CHROME)
    detector.judge("m-1", "https://x.example/b", LATER + timedelta(milliseconds=200), CHROME)
    assert detector.judge("m-1", "https://x.example/a", LATER + timedelta(milliseconds=400), CHROME).automated


def test_one_link_clicked_twice_quickly_is_a_double_click_not_a_burst() -> None:
    detector = delivered()
    detector.judge("m-1", "https://x.example/a", LATER, CHROME)
    assert not detector.judge("m-1", "https://x.example/a", LATER + timedelta(milliseconds=300), CHROME).automated


def test_links_clicked_seconds_apart_are_a_person_reading() -> None:
    detector = delivered()
    assert not detector.judge("m-1", "https://x.example/a", LATER, CHROME).automated
    assert not detector.judge("m-1", "https://x.example/b", LATER + timedelta(seconds=2), CHROME).automated


def test_bursts_are_per_message() -> None:
    detector = delivered(delivered(), "m-2")
    detector.judge("m-1", "https://x.example/a", LATER, CHROME)
    assert not detector.judge("m-2", "https://x.example/b", LATER, CHROME).automated


def test_scanner_clicks_count_towards_a_burst() -> None:
    detector = delivered()
    detector.judge("m-1", "https://x.example/a", LATER, "Mimecast URL Protect")
    assert detector.judge("m-1", "https://x.example/b", LATER, CHROME).reason == "2 links clicked within 1 s"


# ----------------------------------------------------------------------- memory


def test_the_oldest_message_is_forgotten_beyond_max_messages() -> None:
    detector = ScannerDetector(max_messages=2)
    for message_id in ("m-1", "m-2", "m-3"):
        detector.note_delivery(message_id, DELIVERED)
    soon = DELIVERED + timedelta(seconds=3)
    assert not detector.judge("m-1", "https://x.example/a", soon, CHROME).automated
    assert detector.judge("m-3", "https://x.example/a", soon, CHROME).automated


def test_a_message_in_use_is_kept_over_an_idle_one() -> None:
    detector = ScannerDetector(max_messages=2)
    detector.note_delivery("m-1", DELIVERED)
    detector.note_delivery("m-2", DELIVERED)
    detector.judge("m-1", "https://x.example/a", LATER, CHROME)
    detector.note_delivery("m-3", DELIVERED)
    soon = DELIVERED + timedelta(seconds=3)
    assert detector.judge("m-1", "https://x.example/b", soon, CHROME).automated
    assert not detector.judge("m-2", "https://x.example/b", soon, CHROME).automated


def test_a_message_clicked_endlessly_keeps_bounded_memory() -> None:
    detector = delivered()
    for n in range(1000):
        detector.judge("m-1", f"https://x.example/{n}", LATER + timedelta(seconds=2 * n), CHROME)
    assert len(detector._messages["m-1"].clicks) <= 32


def test_max_messages_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_messages"):
        ScannerDetector(max_messages=0)
