"""The dashboard is drawn by Polaris's vendored CSS, not by imitations of our own (issue #19):
our stylesheet defines no component, the templates use none of the old component classes,
every icon a template names is vendored, and the macros render Polaris's markup."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "app" / "templates"
OWN_CSS = (ROOT / "app" / "static" / "css" / "stockroom.css").read_text()
#: What stockroom.css used to draw itself before Polaris's stylesheet was vendored.
OLD_COMPONENTS = ("btn", "btn-primary", "btn-slim", "btn-plain", "btn-critical", "card",
                  "card-flush", "badge", "table", "table-wrap", "input", "select", "tab",
                  "tabs", "spinner", "pagination", "banner", "title-lg", "title-md", "subdued")


def _class_words() -> dict[str, set[str]]:
    words: dict[str, set[str]] = {}
    for path in TEMPLATES.rglob("*.html"):
        for value in re.findall(r'class="([^"]*)"', path.read_text()):
            for word in re.sub(r"\{[{%].*?[%}]\}", " ", value).split():
                words.setdefault(word, set()).add(str(path.relative_to(TEMPLATES)))
    return words


def test_our_stylesheet_draws_no_component_of_its_own():
    rules = re.sub(r"/\*.*?\*/", "", OWN_CSS, flags=re.S)
    selectors = set(re.findall(r"\.([A-Za-z][\w-]*)", rules))
    assert selectors.isdisjoint(OLD_COMPONENTS), selectors & set(OLD_COMPONENTS)
    assert "--p-color-bg:" not in OWN_CSS  # Polaris's tokens come from Polaris


def test_templates_use_polaris_classes_not_the_old_ones():
    words = _class_words()
    used = {w: sorted(files) for w, files in words.items() if w in OLD_COMPONENTS}
    assert used == {}
    assert {"Polaris-Button", "Polaris-ShadowBevel", "Polaris-IndexTable__Table",
            "Polaris-Tabs__Tab", "Polaris-TextField__Input"} <= set(words)


def test_every_icon_a_template_names_is_vendored():
    from app.web.polaris import ICONS_DIR

    named = set()
    for path in TEMPLATES.rglob("*.html"):
        named |= set(re.findall(r'"([A-Z][A-Za-z]+Icon)"', path.read_text()))
    assert named and all((ICONS_DIR / f"{name}.svg").is_file() for name in named), named


def test_icon_is_inline_polaris_markup_and_refuses_what_is_not_vendored():
    from app.web.polaris import icon

    html = str(icon("SelectIcon", tone="subdued", label="Sort"))
    assert html.startswith('<span class="Polaris-Icon Polaris-Icon--toneSubdued">')
    assert 'class="Polaris-Icon__Svg" focusable="false" aria-hidden="true"' in html
    assert ">Sort</span>" in html
    with pytest.raises(LookupError):
        icon("RocketIcon")
    with pytest.raises(ValueError):
        icon("../../secrets")


def test_macros_render_polaris_components(app):
    with app.test_request_context():
        macros = app.jinja_env.get_template("macros.html").make_module()
        badge = str(macros.badge("fulfilled"))
        field = str(macros.text_field("sku", "SKU", "A-1", {"sku": "Taken"}))
        banner = str(macros.banner("Nothing to print", title="Oops"))
        button = str(macros.button("Save", variant="primary", hx_post="/x", disabled=True))
    assert badge.startswith('<span class="Polaris-Badge Polaris-Badge--toneSuccess">')
    assert 'class="Polaris-TextField Polaris-TextField--hasValue Polaris-TextField--error"' in field
    assert 'aria-invalid="true" aria-describedby="sku-error"' in field
    assert 'class="Polaris-InlineError" id="sku-error"' in field
    assert banner.lstrip().startswith(
        '<div class="Polaris-Banner Polaris-Banner--withinContentContainer')
    assert 'role="alert"' in banner and "Oops" in banner
    assert 'hx-post="/x" disabled>' in button and "Polaris-Button--variantPrimary" in button
