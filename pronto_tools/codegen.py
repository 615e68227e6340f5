"""Regenerate the Python code for the contracts in ``proto/``.

The generated modules are committed (``pronto/v1``) so that installing Pronto
needs no compiler; ``tests/unit/test_codegen.py`` fails when they drift from
the ``.proto`` sources. Run ``python -m pronto_tools.codegen`` after editing a contract.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"


def proto_files() -> list[Path]:
    return sorted(PROTO_DIR.glob("pronto/v1/*.proto"))


def generate(out_dir: Path) -> None:
    """Write ``*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py`` under ``out_dir``."""
    well_known = resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(p.relative_to(PROTO_DIR)) for p in proto_files()),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")


def main() -> None:
    generate(ROOT)
    print(f"generated code for {len(proto_files())} proto files in {ROOT / 'pronto' / 'v1'}", file=sys.stderr)


if __name__ == "__main__":
    main()
