"""Fixtures shared by the ingest unit tests: a fresh ingest wired to a fake sink."""

from __future__ import annotations

import pytest

from tests.unit.ingest.application_world import World, world


@pytest.fixture
def w() -> World:
    return world()
