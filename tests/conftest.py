"""Shared fixtures for every test: the embedded broker and an ingest service (tests/plugins)."""

pytest_plugins = ["tests.plugins.broker", "tests.plugins.ingest"]
