"""app/ is only what a production deployment runs: no module under it imports the sandboxes,
the demo package, the benches or the tests (those import app/, never the other way)."""
import ast
from pathlib import Path

import pytest

OUTSIDE_THE_PRODUCT = frozenset({"sandbox", "demo", "bench", "tests"})


def forbidden_imports(source: str) -> list[str]:
    """The absolute imports in ``source`` whose top-level package is outside the product."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in OUTSIDE_THE_PRODUCT]
    return found


def test_forbidden_imports_finds_top_level_and_nested_imports():
    """The check itself: module-level, function-level and plain imports are all reported."""
    source = ("import os\nfrom app.models import Order\nfrom . import demo\n"
              "import sandbox.tls\n"
              "def f():\n    from demo.seed import DEMO_EMAIL\n    import bench.run as b\n")
    assert sorted(forbidden_imports(source)) == ["bench.run", "demo.seed", "sandbox.tls"]


APP_MODULES = sorted((Path(__file__).resolve().parents[2] / "app").rglob("*.py"))


def test_app_modules_found():
    assert len(APP_MODULES) > 40


@pytest.mark.parametrize("path", APP_MODULES, ids=lambda p: str(p).split("/app/", 1)[1])
def test_app_module_imports_nothing_outside_the_product(path):
    assert forbidden_imports(path.read_text()) == []
