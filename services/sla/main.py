"""Process entry point of the sla service (``pronto-sla``)."""

from __future__ import annotations

from pronto.entrypoint import run_faust, settings_or_exit
from services.sla.app import Sla
from services.sla.settings import SlaSettings


def main() -> None:
    settings = settings_or_exit(SlaSettings, "pronto-sla")
    run_faust(Sla(settings).app, settings.log_level)


if __name__ == "__main__":
    main()
