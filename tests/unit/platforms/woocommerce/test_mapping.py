"""Woo order JSON -> OrderData, the texts customers read, tracking payloads, dedupe keys."""
from app.fulfillment import Tracking
from app.platforms.woocommerce.mapping import (order_data, shipment_note, tracking_from_entries,
                                               tracking_payload)
from app.platforms.woocommerce.views import dedupe_key

ORDER = {"id": 118, "number": "118", "status": "cancelled", "currency": "EUR", "total": "45.00",
         "date_created_gmt": "2026-11-20T08:00:00", "date_modified_gmt": "2026-11-21T09:30:00",
         "billing": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
         "shipping": {"first_name": "", "last_name": ""},
         "line_items": [{"id": 5, "product_id": 20, "variation_id": 22, "sku": "HOODIE-M",
                         "name": "Hoodie - M", "quantity": 2}]}


def test_order_data_maps_gmt_dates_names_and_canceled_status():
    data = order_data(ORDER)
    assert data.remote_id == "118" and data.name == "#118" and data.currency == "EUR"
    assert data.placed_at.isoformat() == "2026-11-20T08:00:00+00:00"
    assert data.cancelled_at == data.remote_updated_at
    assert data.customer_name == "Ada Lovelace"
    assert data.lines[0].remote_variant_id == "22" and data.lines[0].quantity == 2


def test_shipment_note_reads_like_a_person_wrote_it():
    ups = Tracking("1Z9", "UPS", "https://ups.example/1Z9")
    assert shipment_note(units=2, total_units=3, tracking=ups, all_shipped=False) == \
        "2 of 3 items shipped via UPS, tracking 1Z9: https://ups.example/1Z9."
    assert shipment_note(units=1, total_units=1, tracking=Tracking(), all_shipped=True) == \
        "1 of 1 item shipped."


def test_tracking_payload_uses_predefined_providers_else_custom():
    assert tracking_payload(Tracking("1", "FedEx")) == {"tracking_number": "1",
                                                       "tracking_provider": "Fedex"}
    assert tracking_payload(Tracking("2", "PostNL", "https://postnl.example/2")) == {
        "tracking_number": "2", "custom_tracking_provider": "PostNL",
        "custom_tracking_link": "https://postnl.example/2"}
    assert tracking_from_entries([]) == Tracking()


def test_dedupe_key_is_the_signed_body_alone():
    a, b = b'{"id":1}', b'{"id":2}'
    assert dedupe_key(a) == dedupe_key(a)  # a redelivery, or a replay under other headers
    assert dedupe_key(a) != dedupe_key(b)  # another order, though the same webhook and second
    assert dedupe_key(a) != dedupe_key(a + b" ")  # any other bytes: another state