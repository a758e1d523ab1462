"""Layer rules of SPEC §2, checked on the source itself (import-linter checks them too, in
`make test`; this test also pins the allow-lists, which a forbidden-list cannot)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "airgap"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
INFRASTRUCTURE = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "redis",
    "elasticsearch",
    "dramatiq",
    "litestar",
    "cattrs",
    "dependency_injector",
)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules_in(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def outside(imports: set[str], allowed_prefixes: tuple[str, ...]) -> set[str]:
    def ok(name: str) -> bool:
        top = name.split(".", maxsplit=1)[0]
        return top in STDLIB or any(name == p or name.startswith(p + ".") for p in allowed_prefixes)

    return {name for name in imports if not ok(name)}


@pytest.mark.parametrize(
    ("package", "allowed"),
    [
        ("domain/model", ("attrs", "airgap.domain.model")),
        ("ports", ("attrs", "airgap.domain.model", "airgap.ports")),
        (
            "domain/services",
            ("attrs", "airgap.domain.model", "airgap.domain.services", "airgap.ports"),
        ),
    ],
)
def test_inner_layers_import_only_what_they_may(package: str, allowed: tuple[str, ...]) -> None:
    offenders = {
        str(path.relative_to(SRC)): sorted(bad)
        for path in modules_in(package)
        if (bad := outside(imports_of(path), allowed))
    }
    assert offenders == {}


@pytest.mark.parametrize("package", ["domain", "ports"])
def test_no_infrastructure_name_appears_in_the_core(package: str) -> None:
    offenders = [
        f"{path.relative_to(SRC)}: {name}"
        for path in modules_in(package)
        for name in INFRASTRUCTURE
        if any(name in imported.split(".") for imported in imports_of(path))
    ]
    assert offenders == []


def test_adapters_never_import_entrypoints() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in modules_in("adapters")
        if any(i.startswith("airgap.entrypoints") for i in imports_of(path))
    ]
    assert offenders == []


def test_the_checker_notices_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy\nfrom airgap.adapters.memory import store\n")
    assert outside(imports_of(bad), ("attrs", "airgap.domain.model")) == {
        "sqlalchemy",
        "airgap.adapters.memory",
    }
