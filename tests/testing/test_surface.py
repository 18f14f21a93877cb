"""appliance.testing as a package others use: its examples run, it documents every module and
its limits, it never needs pytest or the repository's tests/, and nothing outside tests/ imports
the tests."""

from __future__ import annotations

import ast
import doctest
import re
import subprocess
import sys
from pathlib import Path

import appliance.testing

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "appliance" / "testing"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in ``path``, lazy ones inside functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def is_under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_examples_in_the_package_docstring_run() -> None:
    result = doctest.testmod(appliance.testing, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted >= 15


def test_every_module_is_listed_and_says_what_it_is_and_its_limits() -> None:
    listed = appliance.testing.__doc__ or ""
    assert len(MODULES) >= 13
    for name in MODULES:
        assert f"appliance.testing.{name}" in listed or f"``{name}``" in listed, name
        doc = ast.get_docstring(ast.parse((PACKAGE / f"{name}.py").read_text())) or ""
        assert doc.splitlines() and "Limits:" in doc, f"appliance/testing/{name}.py"


def test_the_package_never_imports_pytest_or_the_tests() -> None:
    bad = [
        f"appliance/testing/{path.name}:{line}: imports {module}"
        for path in sorted(PACKAGE.glob("*.py"))
        for line, module in imports(path)
        if is_under(module, "pytest", "tests", "_pytest")
    ]
    assert bad == []


def test_nothing_outside_tests_imports_the_tests() -> None:
    skip = {".venv", "tests", ".git", "node_modules", "out"}
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if skip & set(rel.parts[:-1]):
            continue
        bad += [f"{rel}:{line}: imports {m}" for line, m in imports(path) if is_under(m, "tests")]
    assert bad == []


def test_importing_the_package_loads_none_of_its_modules() -> None:
    code = (
        "import sys, appliance.testing\n"
        "print(sorted(m for m in sys.modules if m.startswith('appliance.testing.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_import_checker_sees_lazy_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\ndef f():\n    from tests.fleet import x\n    import pytest\n")
    assert imports(sample) == [(1, "os"), (4, "tests.fleet"), (5, "pytest")]
    assert is_under("tests.fleet", "tests") and not is_under("testsuite", "tests")


def test_the_development_pages_example_runs() -> None:
    page = (ROOT / "docs" / "development.md").read_text()
    section = page.split("## Emulators", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```$", section, re.S | re.M)
    assert len(blocks) == 1
    exec(compile(blocks[0], "docs/development.md", "exec"), {})  # its asserts are the test
    assert "python -m appliance.testing.pigpiod --port 8888" in section
