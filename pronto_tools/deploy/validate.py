"""Checks of the rendered Kubernetes manifests against the API's schemas and the CRDs' own.

Built-in kinds go through kubernetes-validate (schemas of Kubernetes KUBERNETES_VERSION, strict:
unknown fields are errors); the custom kinds (Strimzi's, the Prometheus Operator's) through the
CRD schemas vendored under deploy/k8s/schemas, unknown fields included. A kind neither knows is an
error too. Strimzi's CEL rules (x-kubernetes-validations) are not evaluated.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from pronto_tools.deploy.manifests import ROOT

K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.32"
CRD_SCHEMAS = K8S / "schemas"


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise FileNotFoundError("kubectl is not installed (scripts/setup.sh installs Debian's)")
    return found


def render(directory: Path) -> list[dict[str, Any]]:
    """The resources ``kubectl kustomize`` renders from ``directory``."""
    done = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise ValueError(f"kustomize failed on {directory}: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@cache
def _crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    group, _, version = api_version.rpartition("/")
    path = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    return json.loads(path.read_text()) if path.exists() else None


def unknown_fields(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Fields a structural CRD schema does not declare: the API server would prune them silently,
    or refuse them with strict field validation; a typo such as ``partitons`` is one."""
    if isinstance(value, list) and "items" in schema:
        return [
            p for n, item in enumerate(value) for p in unknown_fields(item, schema["items"], f"{path}/{n}")
        ]
    if not isinstance(value, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    declared = schema.get("properties")
    if declared is None:
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return [p for k, v in value.items() for p in unknown_fields(v, extra, f"{path}/{k}")]
        return []
    found = [f"{path}/{key}: unknown field" for key in value if key not in declared]
    return found + [
        p
        for key, item in value.items()
        if key in declared
        for p in unknown_fields(item, declared[key], f"{path}/{key}")
    ]


def problems(resource: dict[str, Any]) -> list[str]:
    """What is wrong with one resource (empty: valid)."""
    api_version, kind = resource.get("apiVersion", ""), resource.get("kind", "")
    name = f"{kind}/{resource.get('metadata', {}).get('name', '?')}"
    schema = _crd_schema(api_version, kind) if "." in api_version.split("/")[0] else None
    if schema is not None:
        errors = jsonschema.Draft7Validator(schema).iter_errors(resource)
        invalid = [f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
        return invalid + [
            f"{name}: {p}" for p in unknown_fields(resource, schema) if not p.startswith("/metadata/")
        ]
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {'/'.join(map(str, exc.path))}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name}: no schema for {api_version} {kind}"]
    return []


def all_problems(resources: Iterable[dict[str, Any]]) -> list[str]:
    return [problem for resource in resources for problem in problems(resource)]
