"""HTML to PDF with WeasyPrint (docs/decisions/0009-printing-with-weasyprint.md)."""
from __future__ import annotations

from flask import Response


def pdf_response(html: str, filename: str) -> Response:
    """The document's HTML rendered as a PDF download."""
    import weasyprint  # imported on use: pango loads only in processes that print

    # The documents inline their stylesheet and logo (data: URLs): nothing else is
    # fetched, so no URL in a merchant's data can make the server request anything.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    pdf = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store"})
