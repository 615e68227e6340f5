"""``python -m pronto_tools.deploy``: (re)write the generated deployment files; ``--check`` only compares."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pronto_tools.deploy import dashboards, manifests, workloads

BASE = manifests.ROOT / "deploy" / "k8s" / "base"


def generated() -> dict[Path, str]:
    files = {
        BASE / "dashboards" / f"{d.uid}.json": json.dumps(dashboards.render(d), indent=2, ensure_ascii=False)
        + "\n"
        for d in dashboards.DASHBOARDS
    }
    files[BASE / "services.yaml"] = manifests.as_yaml(
        workloads.all_workloads(), "pronto_tools/deploy/workloads.py"
    )
    files[BASE / "kafka" / "topics.yaml"] = manifests.as_yaml(manifests.kafka_topics(), "pronto/topics.py")
    files[BASE / "monitoring" / "prometheusrule.yaml"] = manifests.as_yaml(
        [manifests.prometheus_rule()], "deploy/prometheus/sla-rules.yml"
    )
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is out of date")
    args = parser.parse_args()
    stale = [path for path, text in generated().items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(manifests.ROOT)} (run python -m pronto_tools.deploy)")
        return 1 if stale else 0
    for path, text in generated().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(manifests.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
