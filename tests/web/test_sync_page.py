"""The Sync page in a merchant's words: what each job is about (store, order, fulfillment)
and how it went, red only for an error; topic, job number and notes behind Details."""
import re

from app.extensions import db
from app.fulfillment import create_fulfillment
from app.models import Channel, OutboxEvent, WebhookInbox


def _row(body, kind, job_id):
    match = re.search(rf'<tr\b[^>]*\bid="{kind}-{job_id}"[^>]*>(.*?)</tr>', body, re.S)
    assert match, f"no row {kind}-{job_id}"
    return match.group(1)


def test_show_sync_done_job_note_is_not_red_a_failed_one_is(shop, browser):
    order = shop.order
    done = OutboxEvent(merchant_id=shop.merchant_id, channel_id=order.channel_id,
                       topic="inventory.push_requested", status="done", attempts=1,
                       last_error="pushed 1 quantity")
    dead = OutboxEvent(merchant_id=shop.merchant_id, channel_id=order.channel_id,
                       topic="inventory.push_requested", status="dead", attempts=8,
                       last_error="WooCommerce answered 503 Service Unavailable")
    db.session.add_all([done, dead])
    db.session.commit()
    store = db.session.get(Channel, order.channel_id).name
    body = browser.get("/sync?kind=outbox").get_data(as_text=True)
    assert "Last error" not in body and ">Outcome<" in body and 'scope="col">Topic<' not in body
    ok, failed = _row(body, "outbox", done.id), _row(body, "outbox", dead.id)
    assert f"Send stock quantities to {store}" in ok
    assert '<span class="subdued">Done</span>' in ok
    assert "<dd>pushed 1 quantity</dd>" in ok and "<code>inventory.push_requested</code>" in ok
    assert ('<span class="error-cell">Gave up after 8 attempts: WooCommerce answered 503 '
            'Service Unavailable</span>') in failed


def test_fulfillment_jobs_name_the_fulfillment_order_and_store_and_link_the_order(shop,
                                                                                  browser):
    line = shop.order.lines[0]
    fulfillment = create_fulfillment(shop.order.id, {line.id: 1}, shop.main.id,
                                     merchant_id=shop.merchant_id)
    db.session.commit()
    job = db.session.scalar(db.select(OutboxEvent).where(
        OutboxEvent.topic == "fulfillment.created"))
    store = db.session.get(Channel, shop.order.channel_id).name
    name, order = fulfillment.name, shop.order.name
    body = browser.get("/sync").get_data(as_text=True)
    row = _row(body, "outbox", job.id)
    assert (f'<a href="/orders/{shop.order.id}">Send fulfillment {name} of order {order} '
            f'to {store}</a>') in row
    assert "Waiting to be sent" in row and "error-cell" not in row
    assert f"Discard “Send fulfillment {name} of order {order} to {store}”?" in row

    # Made on the platform: recorded here, nothing sent back.
    job.payload = {**job.payload, "source": "platform"}
    job.status = "done"
    db.session.commit()
    row = _row(browser.get("/sync").get_data(as_text=True), "outbox", job.id)
    assert f"Fulfillment {name} of order {order} made on {store}" in row


def test_webhook_deliveries_say_what_the_store_said(shop, browser):
    order = shop.order
    store = db.session.get(Channel, order.channel_id).name
    applied = WebhookInbox(merchant_id=shop.merchant_id, channel_id=order.channel_id,
                           topic="orders/updated", dedupe_key="d-1", body=b"{}", status="done",
                           order_remote_id=order.remote_id)
    unknown = WebhookInbox(merchant_id=shop.merchant_id, channel_id=order.channel_id,
                           topic="orders/updated", dedupe_key="d-2", body=b"{}",
                           status="failed", attempts=2, last_error="Shopify answered 502",
                           order_remote_id="gid://shopify/Order/999999")
    odd = WebhookInbox(merchant_id=shop.merchant_id, channel_id=order.channel_id,
                       topic="inventory_levels/update", dedupe_key="d-3",
                       body=b"{}", status="ignored")  # a topic without words: its own name
    hold = WebhookInbox(merchant_id=shop.merchant_id, channel_id=order.channel_id,
                        topic="fulfillment_orders/hold_released", dedupe_key="d-4",
                        body=b"{}", status="done", order_remote_id=order.remote_id)
    db.session.add_all([applied, unknown, odd, hold])
    db.session.commit()
    body = browser.get("/sync?kind=inbox").get_data(as_text=True)
    row = _row(body, "inbox", applied.id)
    assert f'<a href="/orders/{order.id}">{store}: Order {order.name} changed</a>' in row
    assert '<span class="subdued">Applied</span>' in row
    row = _row(body, "inbox", unknown.id)
    assert f"{store}: An order changed" in row and "<a href" not in row.split("</td>")[0]
    assert "Failed (2 attempts), will try again: Shopify answered 502" in row
    assert "error-cell" in row
    row = _row(body, "inbox", odd.id)
    assert f"{store}: Inventory levels: update" in row and "Nothing to change" in row
    row = _row(body, "inbox", hold.id)
    assert f"{store}: Hold on a fulfillment order of order {order.name} released" in row


def test_sync_page_reads_only_the_merchants_names(shop, browser, app):
    """Another merchant's order or fulfillment id in a job's payload names nothing."""
    from tests.fixtures.factories import make_channel, make_merchant, make_order

    other = make_merchant()
    their_order = make_order(make_channel(other), [(None, 1)])
    db.session.flush()
    job = OutboxEvent(merchant_id=shop.merchant_id, channel_id=shop.order.channel_id,
                      order_id=None, topic="fulfillment.created",
                      payload={"fulfillment_id": 10**6, "source": "app"})
    refund = OutboxEvent(merchant_id=shop.merchant_id, topic="order.refund_recorded",
                         order_id=their_order.id, payload={})
    db.session.add_all([job, refund])
    db.session.commit()
    body = browser.get("/sync").get_data(as_text=True)
    assert "Send a fulfillment to" in _row(body, "outbox", job.id)
    assert their_order.name not in _row(body, "outbox", refund.id)
    assert "Refund of an order recorded" in _row(body, "outbox", refund.id)
