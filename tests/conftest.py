pytest_plugins = ["tests.plugins.broker", "tests.plugins.ingest"]
