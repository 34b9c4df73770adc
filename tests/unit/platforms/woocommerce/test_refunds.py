"""Reading WooCommerce refunds: which refunded units the store restocked (from its notes)."""
from app.orders.refunds import RefundLineData
from app.platforms.woocommerce.refunds import refunds_data


def refund(rid, when, *lines):
    return {"id": rid, "date_created_gmt": when, "line_items": [
        {"id": 900 + n, "product_id": product, "variation_id": 0, "quantity": -qty,
         "meta_data": [{"key": "_refunded_item_id", "value": str(item)}]}
        for n, (item, product, qty) in enumerate(lines)]}


def note(text, when, customer=False):
    return {"note": text, "date_created_gmt": when, "customer_note": customer}


def test_refunds_data_counts_restock_notes_written_after_each_refund():
    refunds = [refund(52, "2026-12-01T10:05:00", (7, 31, 1)),
               refund(51, "2026-12-01T10:00:00", (7, 31, 2), (8, 32, 1))]
    notes = [note("Item #31 stock increased from 4 to 5.", "2026-12-01T10:05:00"),
             note("Item #31 stock increased from 2 to 4.", "2026-12-01T10:00:01"),
             note("Item #32 stock increased from 0 to 1.", "2026-12-01T09:00:00"),  # before
             note("Item #31 stock increased from 9 to 10.", "2026-12-01T10:06:00", True),
             note("Refunded $10.00", "2026-12-01T10:00:00")]
    first, second = refunds_data(refunds, notes)
    assert first.remote_id == "51" and second.remote_id == "52"
    assert first.lines == [RefundLineData("7", 2, True, "store"), RefundLineData("8", 1, False)]
    assert second.lines == [RefundLineData("7", 1, True, "store")]


def test_refunds_data_without_notes_restocks_nothing_and_skips_lines_without_an_item():
    data = refunds_data([refund(60, "2026-12-01T10:00:00", (7, 31, 3))
                         | {"line_items": [{"quantity": -1, "product_id": 31, "meta_data": []},
                                           {"quantity": -3, "product_id": 31, "meta_data": [
                                               {"key": "_refunded_item_id", "value": "7"}]}]}],
                        [])
    assert data[0].lines == [RefundLineData("7", 3, False)]
