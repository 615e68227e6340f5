"""Process entry point of the SLA service (``pronto-sla``)."""

from __future__ import annotations

import sys

import faust
from pydantic import ValidationError
from pydantic_settings import SettingsError

from services.sla.app import Sla
from services.sla.settings import SlaSettings


def main() -> None:
    try:
        settings = SlaSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        sys.exit(f"pronto-sla: invalid configuration: {problems}")
    except SettingsError as exc:  # a variable that is not even parseable (bad JSON)
        sys.exit(f"pronto-sla: invalid configuration: {exc} ({exc.__cause__})")
    sla = Sla(settings)
    worker = faust.Worker(sla.app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
