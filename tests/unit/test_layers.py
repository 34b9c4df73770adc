"""The layers' rules: platforms never import the dashboard; the domain imports neither it nor Flask's request state, and never commits."""
import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
DOMAIN_PACKAGES = ("fulfillment", "stock", "orders", "catalog", "warehouse", "merchants")
#: Flask's per-request state: a domain function takes ids and values instead.
REQUEST_STATE = frozenset({"request", "g", "session"})


def imported(source: str) -> list[tuple[str, str | None]]:
    """(module, name) for every absolute import in ``source``, at any depth; name None for
    ``import module``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def imports_web(source: str) -> list[str]:
    """The imports of ``source`` that reach app.web (``from app import web`` included)."""
    return [f"{module}{'.' + name if name else ''}" for module, name in imported(source)
            if module == "app.web" or module.startswith("app.web.")
            or (module == "app" and name == "web")]


def imports_request_state(source: str) -> list[str]:
    """The imports of Flask's request, g or session in ``source``."""
    return [f"{module}.{name}" for module, name in imported(source)
            if module == "flask" and name in REQUEST_STATE]


def commits(source: str) -> int:
    """How many ``….commit()`` calls ``source`` makes."""
    return sum(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr == "commit" for node in ast.walk(ast.parse(source)))


def test_the_checks_find_module_level_and_nested_imports():
    source = ("from app.models import Order\nimport app.web.rendering\nfrom app import web\n"
              "def f():\n    from app.web.auth import login_required\n"
              "    from flask import g, current_app\n")
    assert imports_web(source) == ["app.web.rendering", "app.web", "app.web.auth.login_required"]
    assert imports_request_state(source) == ["flask.g"]
    assert imports_web("from app.webhooks import x\nfrom app.auth import Identity\n") == []
    assert commits("def f():\n    db.session.flush()\n    db.session.commit()\n") == 1


def _modules(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (APP / package).rglob("*.py"))


def _id(path: Path) -> str:
    return str(path.relative_to(APP))


@pytest.mark.parametrize("path", _modules("platforms"), ids=_id)
def test_platform_modules_do_not_import_the_dashboard(path):
    assert imports_web(path.read_text()) == []


@pytest.mark.parametrize("path", _modules(*DOMAIN_PACKAGES), ids=_id)
def test_domain_modules_import_neither_the_dashboard_nor_request_state(path):
    source = path.read_text()
    assert imports_web(source) + imports_request_state(source) == []


@pytest.mark.parametrize("path", _modules(*DOMAIN_PACKAGES), ids=_id)
def test_domain_modules_flush_and_never_commit(path):
    # The caller (a view, the worker, a worker handler's round loop) owns the unit of work.
    assert commits(path.read_text()) == 0


def test_every_layer_has_modules():
    assert len(_modules("platforms")) > 20 and len(_modules(*DOMAIN_PACKAGES)) > 15
