"""The Sync page: a finished job's note is not shown as an error."""
import re

from app.extensions import db
from app.models import OutboxEvent


def test_show_sync_done_job_note_is_not_red_a_failed_one_is(shop, browser):
    order = shop.order
    db.session.add_all([
        OutboxEvent(merchant_id=shop.merchant_id, channel_id=order.channel_id,
                    topic="inventory.levels_changed", status="done", attempts=1,
                    last_error="pushed 1 quantities"),
        OutboxEvent(merchant_id=shop.merchant_id, channel_id=order.channel_id,
                    topic="inventory.levels_changed", status="dead", attempts=8,
                    last_error="WooCommerce answered 503 Service Unavailable")])
    db.session.commit()
    body = browser.get("/sync?kind=outbox").get_data(as_text=True)
    assert "Last error" not in body and ">Outcome<" in body
    done = re.search(r'<td class="([^"]*)">pushed 1 quantities</td>', body)
    dead = re.search(r'<td class="([^"]*)">WooCommerce answered 503', body)
    assert done and "error-cell" not in done.group(1)
    assert dead and dead.group(1) == "error-cell"
