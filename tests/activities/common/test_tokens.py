"""Signed lead tokens: the unsubscribe link and the reply-to address name their lead, and
nothing forged or edited names any lead."""

import pytest

from activities.common.tokens import (
    make_reply_address,
    make_unsubscribe_token,
    unsubscribe_url,
    verify_reply_token,
    verify_unsubscribe_token,
)

SECRET = "s3cret"


@pytest.mark.parametrize("lead_id", ["crm-0042", "A.b_c-9", "x" * 64])
def test_an_unsubscribe_token_names_its_lead(lead_id: str) -> None:
    token = make_unsubscribe_token(lead_id, SECRET)
    assert verify_unsubscribe_token(token, SECRET) == lead_id


def test_an_unsubscribe_token_is_safe_in_a_url_path() -> None:
    url = unsubscribe_url("https://t.example/", "crm-0042", SECRET)
    assert url.startswith("https://t.example/u/crm-0042.")
    assert set(url.removeprefix("https://t.example/u/")) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
    )


@pytest.mark.parametrize(
    "forged",
    [
        lambda t: t.replace("crm-0042", "crm-0043", 1),
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t.rpartition(".")[0],
        lambda t: t + "é",
        lambda t: "",
        lambda t: "../../etc/passwd",
    ],
)
def test_an_edited_or_junk_unsubscribe_token_names_no_lead(forged) -> None:
    assert verify_unsubscribe_token(forged(make_unsubscribe_token("crm-0042", SECRET)), SECRET) is None


def test_tokens_from_another_secret_fail_and_rotation_accepts_old_and_new() -> None:
    old = make_unsubscribe_token("crm-0042", "old-secret")
    assert verify_unsubscribe_token(old, SECRET) is None
    assert verify_unsubscribe_token(old, [SECRET, "old-secret"]) == "crm-0042"


def test_a_reply_address_names_its_lead_even_quoted_or_case_folded_domain() -> None:
    address = make_reply_address("crm.0042", SECRET, "reply.example")
    assert address is not None
    local, _, domain = address.partition("@")
    assert local.startswith("replies+crm.0042.") and domain == "reply.example"
    assert verify_reply_token(address, SECRET) == "crm.0042"
    assert verify_reply_token(f'"Harborview" <{local}@REPLY.EXAMPLE>', SECRET) == "crm.0042"


def test_a_reply_address_and_an_unsubscribe_token_cannot_stand_in_for_each_other() -> None:
    address = make_reply_address("crm-0042", SECRET, "reply.example")
    assert address is not None
    mac = address.partition("@")[0].rpartition(".")[2]
    assert verify_unsubscribe_token(f"crm-0042.{mac}", SECRET) is None
    unsubscribe_mac = make_unsubscribe_token("crm-0042", SECRET).rpartition(".")[2][:8]
    assert verify_reply_token(f"replies+crm-0042.{unsubscribe_mac}@reply.example", SECRET) is None


@pytest.mark.parametrize(
    "address",
    ["replies+crm-0043.00000000@reply.example", "dana@acme.example", "replies+@reply.example", "not an address"],
)
def test_other_addresses_name_no_lead(address: str) -> None:
    assert verify_reply_token(address, SECRET) is None


def test_a_lead_id_too_long_for_a_local_part_gets_no_reply_address() -> None:
    assert make_reply_address("x" * 47, SECRET, "reply.example") is not None
    assert make_reply_address("x" * 48, SECRET, "reply.example") is None
    assert make_reply_address("a..b", SECRET, "reply.example") is None


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        make_unsubscribe_token("crm-0042", "")
