"""Polaris icons for the templates: the SVGs vendored from @shopify/polaris-icons.

``icon("PrintIcon")`` renders Polaris's Icon markup (``<span class="Polaris-Icon">`` around
the SVG, inline so it takes the text colour as Polaris's CSS expects). The SVGs are files
we vendored (vendor/npm_assets.py lists them), read once; a name not vendored is an error
at render time, not a missing picture.
"""
from __future__ import annotations

import functools
import pathlib
import re

from markupsafe import Markup, escape

ICONS_DIR = pathlib.Path(__file__).resolve().parent.parent / "static" / "vendor" / "polaris-icons"
_NAME = re.compile(r"[A-Za-z]+Icon")


@functools.cache
def _svg(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not an icon name: {name!r}")
    path = ICONS_DIR / f"{name}.svg"
    if not path.is_file():
        raise LookupError(f"icon {name} is not vendored (vendor/npm_assets.py ICONS)")
    return path.read_text().replace(
        "<svg ", '<svg class="Polaris-Icon__Svg" focusable="false" aria-hidden="true" ', 1)


def icon(name: str, tone: str | None = None, label: str | None = None) -> Markup:
    """Polaris ``<Icon source=… tone=… accessibilityLabel=…>``: decorative unless labelled."""
    classes = "Polaris-Icon" + (f" Polaris-Icon--tone{tone[:1].upper()}{tone[1:]}" if tone else "")
    text = (f'<span class="Polaris-Text--root Polaris-Text--visuallyHidden">{escape(label)}</span>'
            if label else "")
    return Markup(f'<span class="{classes}">{text}{_svg(name)}</span>')
