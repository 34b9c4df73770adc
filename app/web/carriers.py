"""Common carriers and their tracking-page URL patterns ({number} is the tracking number)."""
from __future__ import annotations

from urllib.parse import quote

#: (name as the platforms spell it, URL pattern or "" when there is no public pattern).
CARRIERS: tuple[tuple[str, str], ...] = (
    ("UPS", "https://www.ups.com/track?tracknum={number}"),
    ("USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"),
    ("FedEx", "https://www.fedex.com/fedextrack/?trknbr={number}"),
    ("DHL Express", "https://www.dhl.com/en/express/tracking.html?AWB={number}"),
    ("DHL eCommerce", "https://webtrack.dhlecs.com/orders?trackingNumber={number}"),
    ("Canada Post", "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={number}"),
    ("Royal Mail", "https://www.royalmail.com/track-your-item#/tracking-results/{number}"),
    ("Australia Post", "https://auspost.com.au/mypost/track/#/details/{number}"),
    ("DPD", "https://tracking.dpd.de/status/en_US/parcel/{number}"),
    ("GLS", "https://gls-group.com/track/{number}"),
    ("PostNL", "https://jouw.postnl.nl/track-and-trace/{number}"),
    ("Deutsche Post", "https://www.deutschepost.de/sendung/simpleQuery.html?form.sendungsnummer={number}"),
    ("La Poste", "https://www.laposte.fr/outils/suivre-vos-envois?code={number}"),
    ("Other", ""),
)


def tracking_url(carrier: str, number: str) -> str:
    """The carrier's tracking page for ``number``, or "" if unknown."""
    pattern = dict(CARRIERS).get(carrier, "")
    number = number.strip()
    return pattern.replace("{number}", quote(number, safe="")) if pattern and number else ""
