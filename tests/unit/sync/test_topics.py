"""Code in app/ names outbox topics by their Topic member, never by the string itself."""
import ast
from pathlib import Path

from app.sync.topics import Topic

APP = Path(__file__).resolve().parents[3] / "app"
TOPICS_MODULE = APP / "sync" / "topics.py"
WIRE_VALUES = frozenset(t.value for t in Topic)


def topic_literals(source: str) -> list[tuple[int, str]]:
    """(line, value) of every string constant in ``source`` that is a Topic's value;
    docstrings (a string alone as a statement) are prose, not uses."""
    tree = ast.parse(source)
    prose = {id(node.value) for node in ast.walk(tree)
             if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value in WIRE_VALUES and id(node) not in prose]


def test_the_check_finds_a_literal_and_ignores_prose():
    source = ('"""Pushes "fulfillment.created"."""\n'
              'enqueue_once(1, "shopify.reconcile")\n'
              'TOPIC = Topic.SHOPIFY_RECONCILE\n')
    assert topic_literals(source) == [(2, "shopify.reconcile")]


def test_app_names_topics_by_member():
    found = [f"{path.relative_to(APP.parent)}:{line}: {value!r}"
             for path in sorted(APP.rglob("*.py")) if path != TOPICS_MODULE
             for line, value in topic_literals(path.read_text())]
    assert found == [], "use the Topic member instead:\n" + "\n".join(found)
