"""The image definition, checked statically (no Docker engine runs here)."""

from __future__ import annotations

import re
import tomllib

from pronto_tools.deploy.manifests import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [line.strip() for line in DOCKERFILE.splitlines() if line.strip() and not line.startswith("#")]


def _final_stage() -> list[str]:
    last_from = max(i for i, line in enumerate(INSTRUCTIONS) if line.startswith("FROM "))
    return INSTRUCTIONS[last_from:]


def test_base_images_are_pinned_and_slim() -> None:
    for line in INSTRUCTIONS:
        if line.startswith("FROM "):
            image = line.split()[1]
            assert re.fullmatch(r"python:3\.11[\w.-]*-slim-bookworm", image), image


def test_it_runs_as_a_non_root_user_with_a_health_check() -> None:
    stage = _final_stage()
    users = [line.split()[1] for line in stage if line.startswith("USER ")]
    assert users, "no USER in the final stage"
    assert users[-1].split(":")[0] not in ("0", "root")
    assert any(line.startswith("HEALTHCHECK ") and "pronto-healthcheck" in line for line in stage)
    assert stage[-1].startswith('CMD ["'), "CMD in exec form"


def test_nothing_is_fetched_from_the_network_and_the_context_is_small() -> None:
    assert not re.search(r"^ADD\s+https?://", DOCKERFILE, re.MULTILINE)
    ignored = (ROOT / ".dockerignore").read_text().split()
    for heavy in (".git", ".venv", "tests"):
        assert heavy in ignored


def test_every_command_the_package_installs_has_its_code_in_the_image() -> None:
    """Compose runs ``pronto topics`` in this image: a package left out of the build context would
    install a command that fails on import."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    copied = {line.split()[1] for line in INSTRUCTIONS if line.startswith("COPY ") and "--from" not in line}
    for command, target in scripts.items():
        package = target.split(".")[0]
        assert package in copied, f"{command} runs {target}, but the Dockerfile copies no {package}/"
