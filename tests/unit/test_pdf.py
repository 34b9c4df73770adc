"""The PDF renderer fetches nothing but data: URLs (no file, no network) while it renders."""
from app.printing.pdf import pdf_response
from tests.fixtures.pdf_text import pdf_text


def test_only_data_urls_are_fetched(tmp_path):
    css = tmp_path / "leak.css"
    css.write_text('body::after { content: "LEAKED FROM DISK"; }')
    html = (f'<link rel="stylesheet" href="file://{css}">'
            '<style>@import url("data:text/css,h1::after%7Bcontent:%22 inline%22%7D");</style>'
            '<h1>Slip</h1><img src="http://127.0.0.1:9/logo.png" alt="">')
    response = pdf_response(html, "x.pdf")
    text = pdf_text(response.data)
    assert text.split()[:2] == ["Slip", "inline"]  # the data: stylesheet was read
    assert "LEAKED" not in text  # the file: one was not
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.pdf"'
