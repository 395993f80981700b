"""Fixtures for the deployment tests: a private Mosquitto from deploy/mosquitto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ingest.conftest import running_mosquitto

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """A Mosquitto started from deploy/mosquitto/nuanliu.conf on a free loopback port."""
    work = tmp_path / "mosquitto"
    work.mkdir()
    with running_mosquitto(work) as url:
        yield url
