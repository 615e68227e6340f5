"""The whole system for end-to-end tests: its own broker, the four services, the shop's receivers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.simulate.inbox import SECRET
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS
from pronto_tools.system import System, TenantSetup
from tests.support.receivers import HttpReceiver, http_receiver

TENANT = "shop-e2e"
TOKEN = "token-e2e-0123456789abcdef"
# Open around the clock (no holidays), so that the outcome does not depend on the day CI runs.
ALWAYS_OPEN = {
    "timezone": "Europe/Rome",
    "hours": {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


@dataclass
class Running:
    broker: EmbeddedBroker
    system: System
    receiver: HttpReceiver

    @property
    def bootstrap_servers(self) -> str:
        return self.broker.bootstrap_servers


def notify_hooks(receiver: HttpReceiver, customers: str = "/ok/customers") -> dict[str, Any]:
    def hook(path: str) -> dict[str, str]:
        return {"url": receiver.url(path), "secret": SECRET}

    return {
        "customer_webhooks": {"*": hook(customers)},
        "operator_default": {"webhook": hook("/ok/operators")},
        "supervisors": {"slack": receiver.url("/ok/supervisors")},
        "limit_count": 1_000_000,
    }


@contextmanager
def whole_system(
    run_dir: Path,
    sla_policy: dict[str, Any] | None = None,
    env: dict[str, dict[str, str]] | None = None,
    notify: dict[str, Any] | None = None,
    customers: str = "/ok/customers",
) -> Iterator[Running]:
    """``notify`` is merged over the shop's notify settings (e.g. ``outbound`` credentials);
    ``customers``: the receiver's path for customers' webhooks (``/slow/...`` for a slow platform)."""
    with EmbeddedBroker(log_path=run_dir / "tansu.log") as broker, http_receiver() as receiver:
        provision(broker.bootstrap_servers)
        shop = TenantSetup(
            TENANT,
            TOKEN,
            DEMO_CHANNEL_SECRETS,
            sla_policy or ALWAYS_OPEN,
            inbox_port=0,
            notify={**notify_hooks(receiver, customers), **(notify or {})},
        )
        system = System(broker.bootstrap_servers, run_dir, shop, env=env).start()
        try:
            yield Running(broker, system, receiver)
        finally:
            system.stop()
