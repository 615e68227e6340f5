"""The committed pronto/v1 modules are what the .proto contracts generate today."""

from __future__ import annotations

from pathlib import Path

import pytest

from pronto_tools import codegen

FIX = "run `python -m pronto_tools.codegen` and commit pronto/v1"


def generated_files(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file() and p.name != "__init__.py"
    }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What protoc generates from proto/ now, by file name."""
    out = tmp_path_factory.mktemp("codegen")
    codegen.generate(out)
    return generated_files(out / "pronto" / "v1")


def test_the_committed_code_is_what_the_contracts_generate(fresh: dict[str, bytes]) -> None:
    committed = generated_files(codegen.ROOT / "pronto" / "v1")

    missing = sorted(fresh.keys() - committed.keys())
    extra = sorted(committed.keys() - fresh.keys())
    stale = sorted(name for name in fresh.keys() & committed.keys() if fresh[name] != committed[name])
    assert not missing, f"pronto/v1 lacks {missing}: {FIX}"
    assert not extra, f"pronto/v1 has files no .proto generates {extra}: delete them, then {FIX}"
    assert not stale, f"pronto/v1 is out of date with proto/ in {stale}: {FIX}"


def test_every_contract_generates_its_three_modules(fresh: dict[str, bytes]) -> None:
    stems = [p.stem for p in codegen.proto_files()]

    assert stems == ["common", "events", "ingest", "operator", "snapshot"]
    assert set(fresh) == {
        f"{stem}{suffix}" for stem in stems for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
    }
