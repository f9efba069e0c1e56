"""Cadences are data: the packaged files say what seed 000 and 004 say, and a broken
file stops the worker with a message naming file, step and field."""

from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.content.cadences import PACKAGED_DIR, CadenceActivities, CadenceError, CadenceStore
from workflows import names
from workflows.models import Channel, LoadCadenceInput

VALID = """\
id = "{id}"
version = 1
mode = "follow_up"
title = "Test"

[[steps]]
key = "day-1-case-study"
day = 1
channel = "email"
template = "follow-up/case-study"
purpose = "value-add case study"
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text)
    return directory


def follow_up_with(tmp_path: Path, old: str, new: str) -> Path:
    """The packaged follow-up cadence with one edit, alone in a directory."""
    text = (PACKAGED_DIR / "follow-up.toml").read_text()
    assert old in text
    return write(tmp_path / "cadences", "follow-up.toml", text.replace(old, new, 1))


def test_packaged_follow_up_runs_days_1_3_5_7_10_then_nurtures(store: CadenceStore) -> None:
    follow_up = store.get("follow-up")
    assert follow_up.mode == "follow_up"
    assert [step.day for step in follow_up.steps] == [1, 3, 5, 7, 10]
    assert follow_up.steps[0].key == "day-1-case-study"
    assert follow_up.after_last_step == "nurture"


def test_packaged_nurture_rotates_monthly_with_a_snooze_check_in(store: CadenceStore) -> None:
    nurture = store.get("nurture")
    assert nurture.every_months == 1
    assert len(nurture.steps) == 6
    assert nurture.check_in is not None


def test_packaged_dunning_mixes_channels_and_stops(store: CadenceStore) -> None:
    dunning = store.get("dunning")
    assert [(s.day, s.channel) for s in dunning.steps] == [
        (0, Channel.EMAIL),
        (3, Channel.EMAIL),
        (7, Channel.SMS),
        (10, Channel.CALL_TASK),
    ]
    assert dunning.after_last_step == "stop"


def test_packaged_re_engage_is_five_touches_over_three_weeks(store: CadenceStore) -> None:
    re_engage = store.get("re-engage")
    assert len(re_engage.steps) == 5
    assert re_engage.steps[-1].day == 21
    assert re_engage.after_last_step == "nurture"


def test_packaged_cadences_exercise_every_channel(store: CadenceStore) -> None:
    used = {step.channel for cadence_id in store.ids() for step in store.get(cadence_id).steps}
    assert used == set(Channel)


def test_wrong_channel_names_file_step_and_field(tmp_path: Path) -> None:
    directory = follow_up_with(
        tmp_path,
        'key = "day-5-social-proof"\nday = 5\nchannel = "email"',
        'key = "day-5-social-proof"\nday = 5\nchannel = "fax"',
    )
    with pytest.raises(CadenceError) as raised:
        CadenceStore(directory)
    assert str(raised.value) == (
        "follow-up.toml: steps[2] (day-5-social-proof) field 'channel': "
        "Input should be 'email', 'sms', 'call_task' or 'linkedin_task'"
    )


def test_missing_field_says_to_add_it(tmp_path: Path) -> None:
    directory = follow_up_with(tmp_path, 'purpose = "value-add case study"\n', "")
    with pytest.raises(
        CadenceError, match=r"steps\[0\] \(day-1-case-study\) field 'purpose': is required: add it"
    ):
        CadenceStore(directory)


def test_misspelt_field_is_named_with_the_known_ones(tmp_path: Path) -> None:
    directory = follow_up_with(tmp_path, "day = 3\n", "dya = 3\n")
    with pytest.raises(CadenceError) as raised:
        CadenceStore(directory)
    message = str(raised.value)
    assert "steps[1] (day-3-discovery-challenge) field 'dya': is not a known field" in message
    assert "day" in message.split("known:")[1]


def test_days_out_of_order_name_the_step(tmp_path: Path) -> None:
    directory = follow_up_with(tmp_path, "day = 7\n", "day = 4\n")
    with pytest.raises(
        CadenceError,
        match=r"follow-up\.toml: steps\[3\] \(day-7-yes-or-not-yet\): day 4 must come after day 5",
    ):
        CadenceStore(directory)


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    directory = write(tmp_path / "cadences", "broken.toml", 'id = "broken"\nversion = 1\nmode = \n')
    with pytest.raises(CadenceError, match=r"broken\.toml: not valid TOML: .*line 3"):
        CadenceStore(directory)


def test_id_must_match_file_name(tmp_path: Path) -> None:
    directory = write(tmp_path / "cadences", "post-demo.toml", VALID.format(id="after-demo"))
    with pytest.raises(
        CadenceError, match=r"post-demo\.toml: id 'after-demo' does not match the file name"
    ):
        CadenceStore(directory)


def test_check_in_needs_its_own_key(tmp_path: Path) -> None:
    text = VALID.format(id="t") + (
        '\n[check_in]\nkey = "day-1-case-study"\nchannel = "email"\n'
        'template = "nurture/snooze-check-in"\npurpose = "check-in"\n'
    )
    directory = write(tmp_path / "cadences", "t.toml", text)
    with pytest.raises(CadenceError, match=r"t\.toml: check_in \(day-1-case-study\) field 'key'"):
        CadenceStore(directory)


def test_every_broken_file_is_reported_at_once(tmp_path: Path) -> None:
    directory = write(tmp_path / "cadences", "a.toml", "id = \n")
    write(directory, "b.toml", VALID.format(id="not-b"))
    write(directory, "c.toml", VALID.format(id="c"))
    with pytest.raises(CadenceError) as raised:
        CadenceStore(directory)
    assert "a.toml" in str(raised.value)
    assert "b.toml" in str(raised.value)
    assert "c.toml" not in str(raised.value)


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CadenceError, match="no cadence files"):
        CadenceStore(tmp_path)


def test_unknown_id_lists_the_known_ones(store: CadenceStore) -> None:
    with pytest.raises(
        CadenceError,
        match="unknown cadence 'post-demo': known cadences are "
        "dunning, follow-up, nurture, re-engage",
    ):
        store.get("post-demo")


def test_load_cadence_activity_returns_the_definition(store: CadenceStore) -> None:
    activities = CadenceActivities(store)
    cadence = ActivityEnvironment().run(
        activities.load_cadence, LoadCadenceInput(cadence_id="dunning")
    )
    assert cadence == store.get("dunning")


def test_load_cadence_activity_fails_unknown_id_without_retry(store: CadenceStore) -> None:
    activities = CadenceActivities(store)
    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(activities.load_cadence, LoadCadenceInput(cadence_id="post-demo"))
    assert raised.value.type == names.UNKNOWN_CADENCE
    assert raised.value.non_retryable
    assert "follow-up" in raised.value.message
