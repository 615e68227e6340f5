"""The exceptions Pronto's tooling raises (the embedded broker, provisioning, child services)."""

from __future__ import annotations


class ProvisioningError(RuntimeError):
    """An existing topic does not match its specification in a way we must not fix silently."""


class BrokerStartError(RuntimeError):
    """The broker process exited or did not answer in time."""


class ServiceStartError(RuntimeError):
    """A service exited or did not become ready in time."""


class ArchiveError(ValueError):
    """An event archive that cannot be imported as it is: a missing or changed file, another format,
    a topic the cluster lacks or with fewer partitions."""


class BacktestError(ValueError):
    """A backtest that cannot run as asked: an unreadable configuration file, a history without the
    topics it replays or without the shop asked for."""
