"""What every service's ``main`` does first: read its settings, or say in one line what is wrong."""

from __future__ import annotations

import sys
from typing import TypeVar

import faust
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsError

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


def run_faust(app: faust.App, log_level: str) -> None:
    """Run a stream processor until SIGTERM or Ctrl-C (Faust's worker handles both)."""
    faust.Worker(app, loglevel=log_level, quiet=True, redirect_stdouts=False).execute_from_commandline()
