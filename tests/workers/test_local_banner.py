"""Issue 12: the `make run` banner's Web UI filter shows each lead once."""

from workers.local import _banner
from workers.settings import Settings


def test_the_banner_filter_keeps_to_running_workflows() -> None:
    banner = _banner(Settings(), ["crm-0042"])

    # Earlier runs of a lead stay listed as continued-as-new: without the status, each lead shows many times.
    assert '(filter: ExecutionStatus = "Running" AND LeadMode = "nurture")' in banner


def test_the_banner_gives_the_web_app_address() -> None:
    banner = _banner(Settings(), ["crm-0042"])

    assert "Web app:         http://127.0.0.1:8088" in banner
