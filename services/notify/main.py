"""Process entry point of the notify service (``pronto-notify``)."""

from __future__ import annotations

from pronto.entrypoint import run_faust, settings_or_exit
from services.notify.app import Notify
from services.notify.settings import NotifySettings


def main() -> None:
    settings = settings_or_exit(NotifySettings, "pronto-notify")
    run_faust(Notify(settings).app, settings.log_level)


if __name__ == "__main__":
    main()
