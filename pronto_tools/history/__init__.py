"""A shop's event history kept off the cluster: ``pronto history export`` and ``import`` (issue #24)."""
