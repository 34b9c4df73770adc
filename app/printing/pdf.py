"""HTML to PDF with WeasyPrint (docs/decisions/0009-printing-with-weasyprint.md)."""
from __future__ import annotations

from flask import Response


def _fetch_inline_only(url: str):
    # The documents inline their stylesheet and logo (data: URLs): nothing is fetched,
    # so no URL in a merchant's data can make the server request anything.
    import weasyprint

    if not url.startswith("data:"):
        raise ValueError(f"Refusing to fetch {url[:80]}")
    return weasyprint.default_url_fetcher(url)


def pdf_response(html: str, filename: str) -> Response:
    """The document's HTML rendered as a PDF download."""
    import weasyprint  # imported on use: pango loads only in processes that print

    pdf = weasyprint.HTML(string=html, url_fetcher=_fetch_inline_only).write_pdf()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store"})
