"""How a merchant's packing slips look: the logo and the footer text."""
from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class SlipSettings(db.Model):
    """One row per merchant that set a logo or a footer; none means neither."""

    __tablename__ = "slip_settings"

    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    footer: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    # A validated PNG or JPEG (app/printing/settings.py), shown as a data: URL, never fetched.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str] = mapped_column(String(16), default="", server_default=text("''"))
