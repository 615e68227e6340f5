"""Process entry point of the routing service (``pronto-routing``)."""

from __future__ import annotations

from pronto.entrypoint import run_faust, settings_or_exit
from services.routing.app import Routing
from services.routing.settings import RoutingSettings


def main() -> None:
    settings = settings_or_exit(RoutingSettings, "pronto-routing")
    run_faust(Routing(settings).app, settings.log_level)


if __name__ == "__main__":
    main()
