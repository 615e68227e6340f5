"""What every service's ``main`` does first: read its settings, or say in one line what is wrong."""

from __future__ import annotations

import logging
import sys
from typing import TypeVar

import faust
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsError

from pronto.logs import limit_repeats

S = TypeVar("S", bound=BaseSettings)


def settings_or_exit(settings_class: type[S], program: str) -> S:
    try:
        return settings_class()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        sys.exit(f"{program}: invalid configuration: {problems}")
    except SettingsError as exc:  # a variable that is not even parseable (bad JSON)
        sys.exit(f"{program}: invalid configuration: {exc} ({exc.__cause__})")


def faust_worker(app: faust.App, log_level: str) -> faust.Worker:
    """Faust's worker, logging at ``log_level``, a message repeated over and over only a few times a
    minute (``pronto.logs``).

    Faust's terminal spinner, which it keeps at WARNING and above, sets the root logger to DEBUG
    so that it sees every record: every debug call in Faust and aiokafka then builds a record, and
    a hop ran 24% slower at WARNING than at INFO. Without the spinner the level holds.
    """
    worker = faust.Worker(app, loglevel=log_level, quiet=True, redirect_stdouts=False)
    worker.spinner = None
    configured = worker.on_setup_root_logger

    def with_repeats_limited(logger: logging.Logger, level: int) -> None:
        configured(logger, level)
        limit_repeats(logger)

    worker.on_setup_root_logger = with_repeats_limited  # type: ignore[method-assign]
    return worker


def run_faust(app: faust.App, log_level: str) -> None:
    """Run a stream processor until SIGTERM or Ctrl-C (Faust's worker handles both)."""
    faust_worker(app, log_level).execute_from_commandline()
