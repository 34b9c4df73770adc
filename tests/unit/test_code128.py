"""Code 128 B encoder of the packing slip's order-number barcode."""
import re

import pytest

from app.printing import code128


def widths(bits: str) -> list[int]:
    """Run lengths of the bars and spaces between the quiet zones."""
    return [len(run) for run in re.findall(r"1+|0+", bits.strip("0"))]


def test_order_number_symbols_and_check_digit():
    # "#1001": start B, values ord-32, check (104 + 1*3 + 2*17 + 3*16 + 4*16 + 5*17) % 103 = 29.
    assert code128.symbols("#1001") == [104, 3, 17, 16, 16, 17, 29, 106]


def test_modules_read_back_as_the_symbols_with_start_and_stop_patterns():
    bits = code128.modules("#1001-F1")
    assert bits.startswith("0" * 10) and bits.endswith("0" * 10)  # quiet zones
    runs = widths(bits)
    assert "".join(map(str, runs[:6])) == "211214"  # START B (ISO/IEC 15417)
    assert "".join(map(str, runs[-7:])) == "2331112"  # STOP
    table = {p: v for v, p in enumerate(code128.PATTERNS)}
    body = runs[6:-7]
    decoded = [table["".join(map(str, body[i:i + 6]))] for i in range(0, len(body), 6)]
    assert "".join(chr(v + 32) for v in decoded[:-1]) == "#1001-F1"


def test_every_symbol_is_eleven_modules_and_distinct():
    assert len(code128.PATTERNS) == 107 and len(set(code128.PATTERNS)) == 107
    assert all(sum(map(int, p)) == 11 for p in code128.PATTERNS[:106])
    assert sum(map(int, code128.PATTERNS[106])) == 13


@pytest.mark.parametrize("text", ["", "Bestellung ü", "tab\there"])
def test_text_outside_code_set_b_is_refused(text):
    with pytest.raises(code128.NotEncodable):
        code128.svg(text)


def test_svg_escapes_its_label_and_draws_one_rect_per_bar():
    svg = str(code128.svg('<"&>'))
    assert 'aria-label="Barcode &lt;&#34;&amp;&gt;"' in svg
    bars = len(re.findall(r"1+", code128.modules('<"&>')))
    assert svg.count("<rect ") == bars + 1  # and the white background
