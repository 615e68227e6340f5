"""The folders say the architecture: the kernel imports no service or tooling, no service imports another.

Read from the source with ``ast`` (imports inside functions count too), so a new arrow pointing the wrong
way fails here, whether or not anything runs it."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path, module: str) -> Iterator[str]:
    """Every module ``path`` (the module ``module``) imports, relative imports made absolute (ruff
    bans them, TID252, but a rule is only as good as what reads it)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)


def layer(module: str) -> str | None:
    """``pronto``, ``pronto_tools`` or ``services.<name>``: the part of the tree a module belongs to."""
    parts = module.split(".")
    if parts[0] == "services" and len(parts) > 1:
        return f"services.{parts[1]}"
    if parts[0] in {"pronto", "pronto_tools"}:
        return parts[0]
    return None


def wrong_arrows(root: Path) -> list[str]:
    """Each import under ``root`` that breaks a rule, as "file imports module"."""
    found = []
    for path in sorted([*root.glob("pronto/**/*.py"), *root.glob("services/**/*.py")]):
        relative = path.relative_to(root)
        if relative.parts[:2] == ("pronto", "v1"):
            continue
        name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        own = layer(name)
        for module in imported(path, name):
            target = layer(module)
            if target is None or target == own:
                continue
            kernel_outward = own == "pronto" and target != "pronto"
            across_services = (own or "").startswith("services.") and target != "pronto"
            if kernel_outward or across_services:
                found.append(f"{relative} imports {module}")
    return found


def test_the_kernel_imports_no_service_or_tooling_and_no_service_imports_another() -> None:
    assert wrong_arrows(ROOT) == []


@pytest.mark.parametrize(
    ("path", "source", "breaks"),
    [
        ("pronto/envelope.py", "from services.sla.domain import policy\n", True),
        ("pronto/envelope.py", "def f():\n    import pronto_tools.system\n", True),
        ("services/notify/settings.py", "from services.sla.domain.calendar import zone_named\n", True),
        ("services/query/api.py", "import services.routing\n", True),
        ("services/sla/ical.py", "from ..query import api\n", True),
        ("services/sla/ical.py", "from .domain import policy\n", False),
        (
            "services/notify/worker.py",
            "from services.notify.domain import decide\nimport pronto.topics\n",
            False,
        ),
        ("pronto_tools/demo.py", "from services.ingest.settings import DEVELOPMENT_TOKENS\n", False),
    ],
)
def test_an_arrow_the_wrong_way_is_found(tmp_path: Path, path: str, source: str, breaks: bool) -> None:
    file = tmp_path / path
    file.parent.mkdir(parents=True)
    file.write_text(source)

    assert bool(wrong_arrows(tmp_path)) is breaks


# Built-in exceptions Pronto's own derive from, besides those named ...Error or ...Exception.
ERROR_BASES = {"Exception", "Warning"}


def raised_elsewhere(root: Path) -> list[str]:
    """Public exception classes defined outside their package's ``errors.py``."""
    found = []
    for path in sorted([*root.glob("pronto*/**/*.py"), *root.glob("services/**/*.py")]):
        relative = path.relative_to(root)
        if relative.parts[:2] == ("pronto", "v1") or relative.name == "errors.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
                if any(base.endswith(("Error", "Exception")) or base in ERROR_BASES for base in bases):
                    found.append(f"{relative}: {node.name}")
    return found


def test_each_package_declares_the_exceptions_it_raises_in_its_errors_module() -> None:
    assert raised_elsewhere(ROOT) == []


def test_an_exception_declared_beside_its_code_is_found(tmp_path: Path) -> None:
    module = tmp_path / "services" / "sla" / "worker.py"
    module.parent.mkdir(parents=True)
    module.write_text("class ClockBroken(ValueError):\n    pass\n\n\nclass _Internal(Exception):\n    pass\n")

    assert raised_elsewhere(tmp_path) == ["services/sla/worker.py: ClockBroken"]


def test_importing_every_kernel_module_loads_no_service_and_no_tooling() -> None:
    """The same rule at run time, in a fresh interpreter: what ``import pronto...`` pulls in."""
    probe = (
        "import importlib, pkgutil, sys, pronto\n"
        "for m in pkgutil.walk_packages(pronto.__path__, 'pronto.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('services', 'pronto_tools')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert loaded.stdout.strip() == "[]"
