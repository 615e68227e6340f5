"""docker-compose.yml, checked for what the issue asks (CI also lints it with docker-compose config)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from pronto_tools.deploy.manifests import ROOT

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
PRONTO = ("ingest", "routing", "sla", "notify", "query")


def test_the_whole_stack_is_there() -> None:
    assert set(SERVICES) == {
        "kafka", "topics", "mongodb", *PRONTO, "prometheus", "alertmanager", "grafana",
    }  # fmt: skip
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert "broker,controller" in SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]


def test_images_are_pinned() -> None:
    for name, service in SERVICES.items():
        image = service["image"]
        assert ":" in image, name
        assert not image.endswith(":latest"), name


def test_every_long_running_service_has_a_health_check_and_waits_for_what_it_needs() -> None:
    for name, service in SERVICES.items():
        if name != "topics":
            assert "test" in service["healthcheck"], name
    for name in PRONTO:
        assert SERVICES[name]["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert SERVICES["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert SERVICES["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_state_lives_in_named_volumes() -> None:
    declared = set(COMPOSE["volumes"])
    used = {
        mount.split(":")[0]
        for service in SERVICES.values()
        for mount in service.get("volumes", [])
        if not mount.startswith(".")
    }
    assert used == declared


def test_pronto_runs_unprivileged_on_a_read_only_root() -> None:
    for name in PRONTO:
        service = SERVICES[name]
        assert service["user"] == "10001:10001"
        assert service["read_only"] is True
        assert "no-new-privileges:true" in service["security_opt"]


SECRET_NAMES = re.compile(r"TOKEN|SECRET|PASSWORD|SHOPS|CHANNELS", re.IGNORECASE)


def test_no_secret_is_written_in_the_file() -> None:
    """Secret-bearing settings come from the environment (.env) or secret files, never literals."""
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAMES.search(key) and not key.endswith("__FILE") and not key.endswith("_FILE"):
                assert str(value).startswith("${"), f"{name}: {key} is written in the file"
    for secret in COMPOSE["secrets"].values():
        assert secret["file"].startswith("./deploy/compose/secrets/")
    ignored = (ROOT / "deploy" / "compose" / "secrets" / ".gitignore").read_text().splitlines()
    assert "*" in ignored
