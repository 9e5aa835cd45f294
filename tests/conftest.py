"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import DeliveryBuilder, write_policy


@pytest.fixture
def delivery(tmp_path: Path) -> DeliveryBuilder:
    """An empty delivery directory builder under tmp_path/delivery."""
    root = tmp_path / "delivery"
    root.mkdir()
    return DeliveryBuilder(root=root)


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    """The sample policy rewritten with absolute key paths."""
    return write_policy(tmp_path / "policy.yaml")
