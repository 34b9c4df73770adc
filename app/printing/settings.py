"""The merchant's packing slip settings: a logo (PNG or JPEG, checked byte by byte) and a footer."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from app.errors import InvalidInput
from app.extensions import db
from app.models import SlipSettings

MAX_LOGO_BYTES = 200 * 1024
MAX_LOGO_PIXELS = 2000  # per side: a slip's logo is a few centimetres wide
MAX_FOOTER_CHARS = 500
_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


class SlipSettingsRefused(InvalidInput):
    """Settings refused, every field's reason in ``errors`` (nothing saved)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()), field=next(iter(errors)))
        self.errors = errors


@dataclass(frozen=True)
class SlipLook:
    """What a slip prints: the footer and the logo as a data: URL ("" when none)."""

    footer: str = ""
    logo_url: str = ""


def slip_look(merchant_id: int) -> SlipLook:
    """The merchant's slip settings, defaults when none were saved."""
    row = db.session.get(SlipSettings, merchant_id)
    if row is None:
        return SlipLook()
    logo_url = ""
    if row.logo and row.logo_type in _TYPES.values():
        logo_url = f"data:{row.logo_type};base64,{base64.b64encode(row.logo).decode()}"
    return SlipLook(row.footer, logo_url)


def _logo_type(data: bytes) -> str:
    """The MIME type of a PNG or JPEG whose bytes Pillow reads as one; else InvalidInput."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_LOGO_BYTES:
        raise InvalidInput(f"The logo is {len(data) // 1024} KB; at most "
                           f"{MAX_LOGO_BYTES // 1024} KB, please.", field="logo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput("The logo must be a PNG or JPEG image; this file is not one.",
                           field="logo") from None
    if kind not in _TYPES:
        raise InvalidInput(f"The logo must be a PNG or JPEG image, not {kind}.", field="logo")
    if max(width, height) > MAX_LOGO_PIXELS:
        raise InvalidInput(f"The logo is {width}×{height} pixels; at most {MAX_LOGO_PIXELS} "
                           "on each side, please.", field="logo")
    return _TYPES[kind]


def save_slip_settings(merchant_id: int, *, footer: str, logo: bytes | None,
                       remove_logo: bool = False) -> SlipSettings:
    """Set the footer, and the logo when one is given (or remove it). Flushes; all or nothing."""
    errors: dict[str, str] = {}
    footer = footer.replace("\r\n", "\n").strip()
    if len(footer) > MAX_FOOTER_CHARS:
        errors["footer"] = f"The footer is {len(footer)} characters; at most {MAX_FOOTER_CHARS}."
    logo_type = ""
    if logo:
        try:
            logo_type = _logo_type(logo)
        except InvalidInput as error:
            errors["logo"] = error.message
    if errors:
        raise SlipSettingsRefused(errors)
    row = db.session.get(SlipSettings, merchant_id)
    if row is None:
        row = SlipSettings(merchant_id=merchant_id, footer="", logo_type="")
        db.session.add(row)
    row.footer = footer
    if logo:
        row.logo, row.logo_type = logo, logo_type
    elif remove_logo:
        row.logo, row.logo_type = None, ""
    db.session.flush()
    return row
