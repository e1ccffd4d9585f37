"""dagspec_runtime is an installed package versioned with the compiler, not files on a search path."""

from __future__ import annotations

import importlib.metadata
import json
import tomllib
from pathlib import Path

import dagspec_runtime
from testenv import REPO, RUNTIME


def test_the_version_moves_with_the_compilers() -> None:
    compiler = json.loads((REPO / "package.json").read_text())["version"]
    project = tomllib.loads((RUNTIME / "pyproject.toml").read_text())["project"]
    assert project["name"] == "dagspec-runtime"
    assert (project["version"], dagspec_runtime.__version__) == (compiler, compiler)
    assert importlib.metadata.version("dagspec-runtime") == compiler


def test_imported_from_the_installed_wheel_with_every_source_file() -> None:
    installed = Path(dagspec_runtime.__file__).resolve().parent
    assert "site-packages" in installed.parts, installed
    dist = importlib.metadata.distribution("dagspec-runtime")
    # A wheel install, not an editable one pointing back into the repository.
    assert '"editable": true' not in (dist.read_text("direct_url.json") or "")
    sources = RUNTIME / "src" / "dagspec_runtime"
    expected, shipped = _files(sources), _files(installed)
    assert expected == shipped
    for relative in expected:
        assert (installed / relative).read_bytes() == (sources / relative).read_bytes(), relative


def _files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
