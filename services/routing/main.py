"""Process entry point of the routing service (``pronto-routing``)."""

from __future__ import annotations

import sys

import faust
from pydantic import ValidationError
from pydantic_settings import SettingsError

from services.routing.app import Routing
from services.routing.settings import RoutingSettings


def main() -> None:
    try:
        settings = RoutingSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        sys.exit(f"pronto-routing: invalid configuration: {problems}")
    except SettingsError as exc:  # a variable that is not even parseable (bad JSON)
        sys.exit(f"pronto-routing: invalid configuration: {exc} ({exc.__cause__})")
    routing = Routing(settings)
    worker = faust.Worker(routing.app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
