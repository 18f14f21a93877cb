"""Who may import whom: every row of docs/architecture.md's block, checked from the code's imports.

The block is the single source of truth: this test parses it, so the page and the check cannot
drift. Each import (module level, inside functions, under ``TYPE_CHECKING``; ``importlib`` calls
with a literal name; ``from x import y`` where ``y`` is a module counts as importing ``x.y``) is
held to the row of the module it is in, and a break names its file, line, import and row.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "architecture.md"
HEADING = "## Who may import whom"
ARROW = "──►"
PURE = "nothing with I/O"
EVERYTHING = "everything in appliance"
NOTHING = "nothing in appliance"
STDLIB_BUT = "the standard library but "

# Breaks the tree still has, each "path -> imported module", that the other steps of issue #12 take
# away (the control channel out of the controller, the [fleet] section's checks in the fleet, the
# setting checks in core, the console without a box config). The test fails on any break not listed
# here and on any listed one that is gone: take it out then. Empty once the steps are merged.
PENDING: frozenset[str] = frozenset()
# Names the block uses for modules that other steps of issue #12 create; empty once merged.
PENDING_NAMES: frozenset[str] = frozenset()


# --- the block -------------------------------------------------------------------------------


@dataclass
class Row:
    """One row: the layer (a dotted module, or a folder ending in ``/``) and what it may import."""

    layer: str
    text: str  # the row as written, comments and line breaks taken out
    allow: list[str] = field(default_factory=list)  # module prefixes
    deny: list[str] = field(default_factory=list)  # module prefixes, checked even if allowed
    third: set[str] = field(default_factory=set)  # third-party packages it may import
    never_third: set[str] = field(default_factory=set)
    pure: bool = False

    @property
    def prefix(self) -> str:
        """The dotted name its modules start with (``webui/`` -> ``webui``)."""
        return self.layer.rstrip("/")

    def covers(self, module: str) -> bool:
        if self.layer == "appliance":  # the package root holds only itself
            return module == "appliance"
        return under(module, self.prefix)


@dataclass
class Rules:
    rows: list[Row]
    io: frozenset[str]  # what "nothing with I/O" forbids of the standard library
    guarded: frozenset[str]  # third-party packages only the rows naming them may import
    internal: frozenset[str]  # top-level names that are this checkout's code (``tests`` too)
    checked: frozenset[str]  # the folders whose modules are checked: those with a row

    def row_of(self, module: str) -> Row | None:
        """The most specific row ``module`` is in."""
        rows = [row for row in self.rows if row.covers(module)]
        return max(rows, key=lambda row: len(row.prefix), default=None)


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def block_text(page: str) -> str:
    """The first fenced block after the heading."""
    section = page[page.index(HEADING) :]
    match = re.search(r"^```\n(.*?)^```$", section, re.S | re.M)
    assert match, f"{PAGE}: no block under {HEADING!r}"
    return match.group(1)


def _uncomment(text: str) -> str:
    """``text`` without its parenthesised remarks (nested ones too)."""
    while True:
        shorter = re.sub(r"\([^()]*\)", "", text)
        if shorter == text:
            return " ".join(text.split())
        text = shorter


def parse_rules(block: str) -> Rules:
    """The block's rows and its meaning of "nothing with I/O"; anything else in it is an error."""
    entries: list[list[str]] = []  # [head, text, continuation...]
    for number, line in enumerate(block.splitlines(), 1):
        if not line.strip():
            continue
        if line[0].isspace():
            assert entries, f"block line {number}: a continuation with no row above it"
            entries[-1].append(line.strip())
        elif ARROW in line:
            head, _, rest = line.partition(ARROW)
            entries.append([head.strip(), rest.strip()])
        elif line.startswith(PURE):
            _, sep, rest = line.partition("=")
            assert sep, f"block line {number}: {PURE!r} needs '= ...'"
            entries.append(["=", rest.strip()])
        else:
            raise AssertionError(
                f"block line {number} is neither a row nor its continuation: {line}"
            )
    raw_rows: list[tuple[str, str]] = []
    io: frozenset[str] | None = None
    for head, *parts in entries:
        text = _uncomment(" ".join(parts))
        if head == "=":
            first = text.split(";")[0].strip()
            assert first.startswith(STDLIB_BUT), f"{PURE!r} must read {STDLIB_BUT!r}...: {text}"
            io = frozenset(_items(first[len(STDLIB_BUT) :]))
        else:
            assert re.fullmatch(r"appliance(\.\w+)*|\w+/", head), f"not a layer: {head!r}"
            raw_rows.append((head, text))
    assert io, f"the block must say what {PURE!r} means"
    layers = [head for head, _ in raw_rows]
    assert len(set(layers)) == len(layers), "a layer has two rows"
    short = {layer.split(".")[1] for layer in layers if layer.count(".") >= 1}
    rows = [_row(layer, text, short) for layer, text in raw_rows]
    guarded = frozenset(name for row in rows for name in row.third | row.never_third)
    checked = frozenset({"appliance", *(row.prefix for row in rows if row.layer.endswith("/"))})
    named = {name for row in rows for name in row.allow + row.deny}
    folders = {name for name in named if not under(name, "appliance")}
    return Rules(rows, io, guarded, checked | folders, checked)


def _items(clause: str) -> list[str]:
    return [item.strip() for item in clause.split(",") if item.strip()]


def _row(layer: str, text: str, short: set[str]) -> Row:
    row = Row(layer, f"{layer} {ARROW} {text}")
    for clause in (c.strip() for c in text.split(";")):
        deny = clause.startswith("never ")
        for item in _items(clause.removeprefix("never ")):
            if item in (PURE, NOTHING):
                assert not deny and clause == item, f"{layer}: {item!r} stands alone: {text}"
                assert text == item, f"{layer}: {item!r} allows nothing else: {text}"
                row.pure = item == PURE
            elif item == EVERYTHING:
                assert not deny, f"{layer}: 'never {item}'?"
                row.allow.append("appliance")
            elif item.endswith("/"):
                (row.deny if deny else row.allow).append(item.rstrip("/"))
            elif item.split(".")[0] in short:
                (row.deny if deny else row.allow).append(f"appliance.{item}")
            else:
                assert re.fullmatch(r"\w+", item), f"{layer}: not a name: {item!r}"
                (row.never_third if deny else row.third).add(item)
    return row


RULES = parse_rules(block_text(PAGE.read_text()))


# --- the imports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    path: str  # relative to the checked tree
    line: int
    statement: str
    target: str
    rule: str

    @property
    def key(self) -> str:
        return f"{self.path} -> {self.target}"

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: `{self.statement}` imports {self.target}, "
            f"which breaks `{self.rule}` ({PAGE.relative_to(ROOT)})"
        )


def modules(root: Path, rules: Rules) -> dict[str, Path]:
    """Every Python module of the checked folders, by dotted name."""
    found: dict[str, Path] = {}
    for top in sorted(rules.checked):
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(
    tree: ast.Module, module: str, is_package: bool, known: set[str]
) -> Iterator[tuple[ast.stmt | ast.expr, str]]:
    """Each (node, imported module) in ``tree``, wherever it is."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            if len(submodules) < len(node.names):  # a name from ``base`` itself, or ``*``
                yield node, base
            for name in submodules:
                yield node, name
        elif isinstance(node, ast.Call) and node.args and _is_import_call(node.func):
            literal = _literal_prefix(node.args[0])
            if literal:
                yield node, literal


def _is_import_call(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in ("import_module", "__import__")


def _literal_prefix(arg: ast.expr) -> str | None:
    """The module a literal name (or an f-string's literal start, up to its last dot) names."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values:
        first = arg.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and "." in first.value:
            return first.value.rpartition(".")[0]
    return None


def allowed(rules: Rules, row: Row, target: str) -> bool:
    top = target.split(".")[0]
    if target == "appliance":
        return True
    if top in rules.internal:
        if row.layer != "appliance" and under(target, row.prefix):  # its own package
            return True
        if any(under(target, deny) for deny in row.deny):
            return False
        return any(under(target, allow) for allow in row.allow)
    if top in row.never_third:
        return False
    if top in rules.guarded:
        return top in row.third
    if row.pure:
        return top in sys.stdlib_module_names and top not in rules.io
    return True


def check(root: Path, rules: Rules) -> list[Violation]:
    """Every import in the tree at ``root`` that its row does not allow."""
    found = modules(root, rules)
    known = set(found)
    violations: list[Violation] = []
    for module, path in found.items():
        row = rules.row_of(module)
        assert row, f"{path}: no row of the block covers {module}"
        tree = ast.parse(path.read_text(), str(path))
        for node, target in imports(tree, module, path.name == "__init__.py", known):
            if not allowed(rules, row, target):
                statement = ast.unparse(node)
                if len(statement) > 80:
                    statement = statement[:77] + "..."
                rel = path.relative_to(root).as_posix()
                violations.append(Violation(rel, node.lineno, statement, target, row.text))
    return violations


# --- the tree as it is -----------------------------------------------------------------------


def test_every_import_keeps_to_its_row() -> None:
    new = [str(v) for v in check(ROOT, RULES) if v.key not in PENDING]
    assert not new, "imports that break docs/architecture.md's rows:\n" + "\n".join(new)


def test_pending_breaks_are_still_there() -> None:
    gone = PENDING - {v.key for v in check(ROOT, RULES)}
    assert not gone, f"fixed: take them out of PENDING in {__file__}: {sorted(gone)}"


def test_every_name_in_the_block_is_in_the_tree() -> None:
    known = set(modules(ROOT, RULES))
    named = {row.prefix for row in RULES.rows} | {
        name for row in RULES.rows for name in row.allow + row.deny
    }
    missing = {name for name in named if name not in known and not (ROOT / name).is_dir()}
    assert missing == PENDING_NAMES, (
        f"names in the block that are not in the tree: {sorted(missing - PENDING_NAMES)}; "
        f"now there (take them out of PENDING_NAMES): {sorted(PENDING_NAMES - missing)}"
    )


def test_every_third_party_name_in_the_block_is_a_dependency() -> None:
    project = (ROOT / "pyproject.toml").read_text().lower()
    unknown = {
        name
        for name in RULES.guarded
        if importlib.util.find_spec(name) is None and name.lower() not in project
    }
    assert not unknown, f"not a package this project uses (a misspelt layer?): {sorted(unknown)}"


def test_every_module_is_under_a_row() -> None:
    loose = [name for name in modules(ROOT, RULES) if RULES.row_of(name) is None]
    assert not loose, f"modules no row of docs/architecture.md covers: {loose}"


def test_the_rows_say_what_the_issue_asks() -> None:
    """A few rows read back from the page, so a parser that read nothing would fail."""
    layers = {row.layer: row for row in RULES.rows}
    assert layers["webui/"].deny == [
        "appliance.hw",
        "appliance.door",
        "appliance.controller",
        "appliance.district",
    ]
    assert layers["appliance.core"].pure and layers["appliance.wiegand"].pure
    assert layers["appliance.hw"].third == {"pigpio", "gpiod", "gpiozero", "lgpio"}
    assert {"sqlalchemy", "alembic"} <= layers["appliance.store"].third
    assert "appliance.fleet.section" in layers["appliance.config"].allow
    assert {"socket", "os", "threading", "time"} <= RULES.io


def test_building_the_app_loads_no_hardware_module() -> None:
    """At run time too (imports made by name would pass the ast check)."""
    hardware = (
        "appliance.hw",
        "gpiozero",
        "pigpio",
        "gpiod",
        "lgpio",
        "appliance.controller.daemon",
    )
    code = (
        "import sys, webui, webui.auth, webui.dashboard, webui.door, webui.fobs, webui.users\n"
        f"bad = [m for m in sys.modules if m.startswith({hardware!r})]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the checker itself ----------------------------------------------------------------------


def test_an_added_forbidden_import_fails_with_its_file_line_and_row(tmp_path: Path) -> None:
    for top in sorted(RULES.checked):
        if (ROOT / top).is_dir():
            shutil.copytree(
                ROOT / top, tmp_path / top, ignore=shutil.ignore_patterns("__pycache__")
            )
    before = {str(v) for v in check(tmp_path, RULES)}
    (tmp_path / "webui" / "gpio_page.py").write_text('"""A page."""\n\nimport appliance.hw\n')
    added = [str(v) for v in check(tmp_path, RULES) if str(v) not in before]
    assert len(added) == 1
    assert added[0].startswith("webui/gpio_page.py:3: `import appliance.hw` imports appliance.hw,")
    assert "webui/ ──► store, config, control," in added[0]
    assert "never hw, door, controller, district" in added[0]


SKELETON = [
    "appliance/__init__.py",
    "appliance/cli/__init__.py",
    "appliance/controller/__init__.py",
    "appliance/core/__init__.py",
    "appliance/district/__init__.py",
    "appliance/district/state.py",
    "appliance/door.py",
    "appliance/fleet/__init__.py",
    "appliance/fleet/link.py",
    "appliance/fleet/section.py",
    "appliance/hw/__init__.py",
    "appliance/provision/__init__.py",
    "appliance/provision/run.py",
    "appliance/provision/status.py",
    "appliance/store/__init__.py",
    "appliance/testing/__init__.py",
    "appliance/testing/box.py",
    "bench/__init__.py",
    "webui/__init__.py",
]

CASES = [
    # (file, its source, the module it breaks a row with, or None)
    ("appliance/config.py", "from appliance.store import Store\n", "appliance.store"),
    (
        "appliance/config.py",
        "def f():\n    from appliance.fleet import link\n",
        "appliance.fleet.link",
    ),
    ("appliance/config.py", "from appliance.fleet.section import check\n", None),
    ("appliance/config.py", "from .store import Store\n", "appliance.store"),
    ("appliance/config.py", "from appliance.core.model import Door\n", None),
    ("webui/page.py", "def f():\n    from appliance import door\n", "appliance.door"),
    ("webui/page.py", "from appliance import hw\n", "appliance.hw"),
    ("webui/page.py", "from appliance import __version__\n", None),
    (
        "webui/page.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import appliance.controller\n",
        "appliance.controller",
    ),
    ("webui/page.py", "from appliance.provision.status import read_status\n", None),
    ("webui/page.py", "from appliance.provision import run\n", "appliance.provision.run"),
    (
        "webui/page.py",
        "import importlib\nimportlib.import_module('gpiozero.pins')\n",
        "gpiozero.pins",
    ),
    ("webui/page.py", "import sqlalchemy\n", "sqlalchemy"),
    ("webui/page.py", "import flask\n", None),
    ("appliance/provision/run.py", "from webui import create_app\n", "webui"),
    ("bench/run.py", "from tests.fleet.conftest import broker\n", "tests.fleet.conftest"),
    ("bench/run.py", "from appliance.testing import box\n", None),
    (
        "appliance/store/fleet.py",
        "from appliance.district import state\n",
        "appliance.district.state",
    ),
    ("appliance/fleet/agent.py", "import appliance.district\n", "appliance.district"),
    ("appliance/fleet/agent.py", "from appliance.fleet import section\n", None),
    ("appliance/fleet/section.py", "from appliance.config import Config\n", "appliance.config"),
    ("appliance/core/rules.py", "import socket\n", "socket"),
    ("appliance/core/rules.py", "import pydantic\n", "pydantic"),
    ("appliance/core/rules.py", "import dataclasses\n", None),
    ("appliance/hw/pins.py", "import importlib\nimportlib.import_module(f'gpiozero.{x}')\n", None),
    (
        "appliance/hw/pins.py",
        "from appliance.wiegand.frames import Assembler\n",
        "appliance.wiegand.frames",
    ),
    ("appliance/door.py", "from appliance.testing import box\n", "appliance.testing.box"),
    ("appliance/cli/door.py", "from appliance.testing.box import Box\n", "appliance.testing.box"),
    ("appliance/cli/demo.py", "from appliance.testing.box import Box\n", "appliance.testing.box"),
    ("appliance/cli/demo.py", "import webui\n", None),
]


@pytest.mark.parametrize(("path", "source", "breaks"), CASES)
def test_the_checker_reads_every_kind_of_import(
    tmp_path: Path, path: str, source: str, breaks: str | None
) -> None:
    for name in [*SKELETON, path]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    (tmp_path / path).write_text(source)
    found = check(tmp_path, RULES)
    assert [v.target for v in found] == ([breaks] if breaks else []), [str(v) for v in found]
    if breaks:
        row = RULES.row_of(path_module(path))
        assert row is not None
        assert (found[0].path, found[0].rule) == (path, row.text)
        last_line = source.count("\n")
        assert str(found[0]).startswith(f"{path}:{last_line}: `")


def path_module(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def test_the_parser_refuses_a_line_it_does_not_understand() -> None:
    block = block_text(PAGE.read_text())
    with pytest.raises(AssertionError, match="neither a row"):
        parse_rules(block + "appliance.hw may import anything\n")
    with pytest.raises(AssertionError, match="stands alone"):
        parse_rules(block + "appliance.newthing ──► nothing with I/O, store\n")
