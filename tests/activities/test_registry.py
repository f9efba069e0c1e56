"""What the worker registers: four activities under the names the workflow calls."""

from pathlib import Path

import pytest
from temporalio import activity

from activities.content.cadences import CadenceError
from activities.content.config import ContentConfig
from activities.delivery.config import DeliveryConfig
from activities.registry import build_activities, load_and_check
from workflows import names


def test_build_activities_registers_the_four_fixed_names(config: DeliveryConfig) -> None:
    registered = {
        activity._Definition.must_from_callable(fn).name for fn in build_activities(delivery=config)
    }
    assert registered == {
        names.LOAD_CADENCE,
        names.PLAN_SEND,
        names.SEND_EMAIL,
        names.SEND_SMS,
        names.CREATE_REP_TASK,
    }


def test_worker_start_fails_on_a_broken_cadence(tmp_path: Path) -> None:
    (tmp_path / "follow-up.toml").write_text('id = "follow-up"\nversion = 0\n')
    with pytest.raises(CadenceError, match=r"follow-up\.toml: field 'version'"):
        load_and_check(ContentConfig(cadences_dir=tmp_path))
