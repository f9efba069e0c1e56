"""Issue 12: the `make run` banner's Web UI filter shows each lead once."""

from workers.console.auth import check_password
from workers.local import _banner, local_settings
from workers.settings import Settings


def test_the_banner_filter_keeps_to_running_workflows() -> None:
    banner = _banner(Settings(), ["crm-0042"])

    # Earlier runs of a lead stay listed as continued-as-new: without the status, each lead shows many times.
    assert '(filter: ExecutionStatus = "Running" AND LeadMode = "nurture")' in banner


def test_the_banner_gives_the_web_app_address() -> None:
    banner = _banner(Settings(), ["crm-0042"])

    assert "Web app:         http://127.0.0.1:8088" in banner


def test_make_run_gives_the_console_a_local_admin_whose_password_is_in_var(tmp_path) -> None:
    settings = local_settings(Settings(var_dir=tmp_path))
    password_file = tmp_path / "console-password"
    [admin] = settings.staff.console.users
    assert admin.username == "admin" and admin.role == "admin"
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    assert check_password(settings.staff.console, "admin", password_file.read_text().strip()) is not None
    # The same password on the next run.
    again = local_settings(Settings(var_dir=tmp_path))
    assert check_password(again.staff.console, "admin", password_file.read_text().strip()) is not None
