"""Code 128 (code set B) barcodes as inline SVG, drawn server-side for packing slips."""
from __future__ import annotations

from markupsafe import Markup

# Bar/space widths (in modules) of symbol values 0-105, then STOP (106), from ISO/IEC 15417.
PATTERNS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 "
    "112232 122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 "
    "311222 321122 321221 312212 322112 322211 212123 212321 232121 111323 131123 131321 "
    "112313 132113 132311 211313 231113 231311 112133 112331 132131 113123 113321 133121 "
    "313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 112412 122114 "
    "122411 142112 142211 241211 221114 413111 241112 134111 111242 121142 121241 114212 "
    "124112 124211 411212 421112 421211 212141 214121 412121 111143 111341 131141 114113 "
    "114311 411113 411311 113141 114131 311141 411131 211412 211214 211232 2331112"
).split()
START_B = 104
STOP = 106
QUIET = 10  # modules of white either side, as scanners need


class NotEncodable(ValueError):
    """Text outside code set B (printable ASCII): the slip shows the number without bars."""


def symbols(text: str) -> list[int]:
    """Symbol values of ``text``: start B, the characters, the mod-103 check, stop."""
    if not text or any(not 32 <= ord(c) <= 126 for c in text):
        raise NotEncodable(f"Code 128 B cannot encode {text!r}.")
    values = [ord(c) - 32 for c in text]
    check = (START_B + sum(i * v for i, v in enumerate(values, start=1))) % 103
    return [START_B, *values, check, STOP]


def modules(text: str) -> str:
    """The barcode as a string of "1" (bar) and "0" (space) modules, quiet zones included."""
    out = ["0" * QUIET]
    for value in symbols(text):
        for i, width in enumerate(PATTERNS[value]):
            out.append(("1" if i % 2 == 0 else "0") * int(width))
    out.append("0" * QUIET)
    return "".join(out)


def svg(text: str, *, height: int = 50, module: float = 1.5) -> Markup:
    """An inline SVG of ``text`` as Code 128 B, one <rect> per bar; no text is interpolated
    into the markup but the escaped label."""
    bits = modules(text)
    rects, x = [], 0
    while x < len(bits):
        if bits[x] == "1":
            end = bits.index("0", x)
            rects.append(f'<rect x="{x * module:g}" y="0" width="{(end - x) * module:g}" '
                         f'height="{height}"/>')
            x = end
        else:
            x += 1
    width = len(bits) * module
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img" '
                  f'width="{width:g}" height="{height}" viewBox="0 0 {width:g} {height}" '
                  f'aria-label="Barcode {Markup.escape(text)}">'
                  f'<rect width="100%" height="100%" fill="#fff"/><g fill="#000">'
                  f'{"".join(rects)}</g></svg>')
