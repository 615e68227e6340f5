#!/usr/bin/env python3
"""Extract the OpenAPI v3 schema of one CRD version into a standalone JSON Schema file.

Usage (see README.md for the exact upstream files and commits):

    python extract.py --version v1 040-Crd-kafka.yaml 043-Crd-kafkatopic.yaml ...
    python extract.py --version v1 monitoring.coreos.com_servicemonitors.yaml ...

For every CustomResourceDefinition found in the given YAML files, the
``spec.versions[]`` entry named ``--version`` is located and its
``schema.openAPIV3Schema`` is written to
``<out>/<spec.group>/<kind-lowercase>_<version>.json`` (indent 1).
Kubernetes extensions (``x-kubernetes-*``, ``nullable``, ``format:
int-or-string`` ...) are kept: they are unknown keywords / formats to standard
JSON Schema validators, which ignore them. The only rewrite is PATTERN_FIXES:
upstream regexes (Go RE2 syntax) that Python's ``re`` cannot compile, which
makes ``jsonschema.Draft7Validator.check_schema`` fail. Every file is checked
with ``check_schema`` if jsonschema is installed. Requires PyYAML.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

DEFAULT_OUT = Path(__file__).resolve().parent

# RE2 pattern -> equivalent pattern accepted by Python `re` (and ECMA-262).
# "^(?i)..." : Python >= 3.11 rejects inline global flags that are not at the
# very start of the expression; spell the case-insensitivity out instead.
PATTERN_FIXES: dict[str, str] = {
    "^(?i)(abort|warn)?$": "^([Aa][Bb][Oo][Rr][Tt]|[Ww][Aa][Rr][Nn])?$",
}


def iter_crds(path: Path) -> list[dict[str, Any]]:
    """Return every CustomResourceDefinition document in a (multi-document) YAML file."""
    with path.open(encoding="utf-8") as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d]
    return [d for d in docs if d.get("kind") == "CustomResourceDefinition"]


def extract(crd: dict[str, Any], version: str) -> tuple[str, str, dict[str, Any]]:
    """Return (group, kind, openAPIV3Schema) for ``version`` of ``crd``."""
    spec = crd["spec"]
    group: str = spec["group"]
    kind: str = spec["names"]["kind"]
    for entry in spec["versions"]:
        if entry["name"] == version:
            return group, kind, entry["schema"]["openAPIV3Schema"]
    available = [v["name"] for v in spec["versions"]]
    raise SystemExit(f"{group}/{kind}: version {version!r} not in CRD (has {available})")


def fix_patterns(node: Any, where: str = "#") -> list[str]:
    """Apply PATTERN_FIXES in place; return the JSON pointers that were changed."""
    changed: list[str] = []
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern in PATTERN_FIXES:
            node["pattern"] = PATTERN_FIXES[pattern]
            changed.append(f"{where}/pattern")
        for key, value in node.items():
            changed += fix_patterns(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            changed += fix_patterns(value, f"{where}/{i}")
    return changed


def check(schema: dict[str, Any], label: str) -> None:
    """Validate the schema against the Draft 7 meta-schema, if jsonschema is available."""
    try:
        from jsonschema import Draft7Validator
    except ImportError:
        print(f"  (jsonschema not installed, skipped check_schema for {label})", file=sys.stderr)
        return
    Draft7Validator.check_schema(schema)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("crds", nargs="+", type=Path, help="CRD YAML files")
    parser.add_argument("--version", required=True, help="CRD version to extract, e.g. v1")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output root (default: this directory)")
    args = parser.parse_args(argv)

    for path in args.crds:
        crds = iter_crds(path)
        if not crds:
            raise SystemExit(f"{path}: no CustomResourceDefinition found")
        for crd in crds:
            group, kind, schema = extract(crd, args.version)
            target = args.out / group / f"{kind.lower()}_{args.version}.json"
            for pointer in fix_patterns(schema):
                print(f"  {target.name}: rewrote {pointer}", file=sys.stderr)
            check(schema, str(target))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(schema, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"{path} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
