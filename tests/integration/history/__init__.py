"""Integration tests of the event archive (pronto history export / import) on real brokers."""
