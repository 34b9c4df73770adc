"""Low stock: reorder points set on the page, what is at or below them with what open orders
reserve, and the daily digest sent by the worker's schedule to a local SMTP server."""
from __future__ import annotations

import datetime as dt
import email
import re
import socketserver
import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import JobStatus, LowStockDigest, OutboxEvent, ReorderPoint
from app.sync import schedule
from app.sync.worker import Worker
from app.warehouse.low_stock import DIGEST_TOPIC, queue_digests, schedule_low_stock_digests
from tests.fixtures.factories import make_location, make_merchant
from tests.web.conftest import header_credential


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test-smtp ready")
        envelope = {"to": []}
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test-smtp")
            elif verb == "MAIL":
                envelope["from"] = command[10:]
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(command[8:])
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.messages.append(email.message_from_bytes(b"".join(data)))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Not implemented")


@pytest.fixture
def smtp_server(app):
    """A local SMTP server on a free port; the app's SMTP settings point at it."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.server_address[1],
                      SMTP_FROM="Stockroom <stock@example.test>", LOW_STOCK_DIGEST_HOUR=0)
    yield server
    server.shutdown()
    server.server_close()


def set_point(shop, browser, **fields):
    browser.get("/stock/low")
    data = {"sku": "MUG-1", "location_id": shop.main.id, "reorder_point": "5"} | fields
    return browser.post("/stock/reorder-points", data)


def test_low_stock_lists_what_is_at_or_below_with_reserved_units(shop, browser):
    page = browser.get("/stock/low").get_data(as_text=True)
    assert "Nothing is at or below its reorder point." in page
    assert set_point(shop, browser).status_code == 303  # 5 on hand, point 5: at it
    assert set_point(shop, browser, sku="TOTE-1", location_id=shop.second.id,
                     reorder_point="3").status_code == 303  # 4 on hand: above
    page = browser.get("/stock/low").get_data(as_text=True)
    rows = page[page.index('id="low-stock-rows"'):page.index('id="reorder-points"')]
    assert 'data-sku="MUG-1" data-location="Main warehouse"' in rows
    assert "TOTE-1" not in rows
    # The shop's order has 3 mugs not shipped: reserved by an open order.
    cell = '<td class="Polaris-IndexTable__TableCell num">'
    assert f"{cell}5</td>{cell}5</td>" in rows and ">3</td>" in rows
    fragment = browser.hx_get(f"/stock/low?location_id={shop.second.id}", "low-stock")
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "MUG-1</a>" not in body.split('id="reorder-points"')[0]
    # Blank removes the reorder point.
    assert set_point(shop, browser, reorder_point="").status_code == 303
    assert db.session.scalars(select(ReorderPoint.reorder_point)).all() == [3]


def test_home_lists_what_is_at_or_below_its_reorder_point(shop, browser):
    home = browser.get("/").get_data(as_text=True)
    assert 'id="home-low-stock"' not in home  # nothing below a reorder point: no card
    assert set_point(shop, browser).status_code == 303  # 5 on hand, point 5: at it
    assert set_point(shop, browser, sku="TOTE-1", location_id=shop.second.id,
                     reorder_point="3").status_code == 303  # 4 on hand: above
    home = browser.get("/").get_data(as_text=True)
    card = home[home.index('id="home-low-stock"'):]
    card = card[:card.index("</section>")]
    assert 'data-sku="MUG-1" data-location="Main warehouse"' in card and "TOTE-1" not in card
    # available 5, point 5, 3 mugs reserved by the shop's open order
    cell = '<td class="Polaris-IndexTable__TableCell num">'
    assert f"{cell}5</td>{cell}5</td>{cell}3</td>" in card
    assert 'href="/stock/low"' in card


def test_low_stock_page_works_embedded_with_a_session_token(shop, app):
    headers = header_credential(app, shop.merchant_id, first=True)
    client = app.test_client()
    page = client.get("/stock/low", headers=headers).get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = client.post("/stock/reorder-points", headers=headers | {"HX-Request": "true"},
                           data={"form_token": token, "sku": "MUG-1",
                                 "location_id": shop.main.id, "reorder_point": "5"})
    assert response.status_code == 204 and "Set-Cookie" not in response.headers
    assert db.session.scalars(select(ReorderPoint.reorder_point)).all() == [5]
    rows = client.get("/stock/low", headers=headers).get_data(as_text=True)
    assert 'data-sku="MUG-1" data-location="Main warehouse"' in rows


def test_reorder_point_bad_input_is_inline(shop, browser):
    theirs = make_location(make_merchant(), "Theirs")
    db.session.commit()
    for fields, message in [({"sku": "NOPE"}, "No item has the SKU NOPE."),
                            ({"reorder_point": "-1"}, "be negative."),
                            ({"reorder_point": "lots"}, "Enter a whole number."),
                            ({"reorder_point": "10000000000"}, "At most 1,000,000,000."),
                            ({"location_id": theirs.id}, "Choose one of your stock locations."),
                            ({"sku": ""}, "Enter a SKU.")]:
        response = set_point(shop, browser, **fields)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    assert db.session.query(ReorderPoint).count() == 0


def test_digest_is_off_by_default_and_needs_smtp(shop, browser, app):
    set_point(shop, browser)
    app.config["SMTP_HOST"] = ""
    page = browser.get("/stock/low").get_data(as_text=True)
    assert "Email is not set up on this server" in page
    response = browser.post("/stock/low/digest", {"enabled": "on",
                                                  "recipient": "owner@example.test"})
    assert response.status_code == 422
    assert queue_digests(dt.date(2026, 12, 7)) == 0  # nobody turned it on
    assert db.session.query(OutboxEvent).filter_by(topic=DIGEST_TOPIC).count() == 0


def test_daily_digest_goes_out_once_a_day_through_the_worker(shop, browser, app, smtp_server):
    assert "warehouse.low_stock_digest" in schedule._tasks  # the worker's schedule runs it
    set_point(shop, browser)
    browser.get("/stock/low")
    response = browser.post("/stock/low/digest", {"enabled": "on", "recipient": "not an email"})
    assert response.status_code == 422 and "Enter one email address." in response.get_data(
        as_text=True)
    browser.get("/stock/low")
    response = browser.post("/stock/low/digest", {"enabled": "on",
                                                  "recipient": "buyer@example.test"})
    assert response.status_code == 303

    assert schedule_low_stock_digests() == 1
    db.session.commit()
    assert schedule_low_stock_digests() == 0  # once per day, however often the worker ticks
    db.session.commit()
    Worker(app, worker_id="w-digest").run_pass()
    job = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == DIGEST_TOPIC)).one()
    db.session.refresh(job)
    assert job.status == JobStatus.DONE and job.last_error == "sent to buyer@example.test"
    [message] = smtp_server.messages
    assert message["To"] == "buyer@example.test"
    assert message["Subject"].startswith("Low stock: 1 item at or below the reorder point")
    body = message.get_payload(decode=True).decode()
    assert ("MUG-1 Item MUG-1 at Main warehouse: 5 available, reorder point 5, "
            "3 reserved by open orders") in body
    assert db.session.query(LowStockDigest).count() == 1


def test_digest_send_failure_is_retried(shop, browser, app, smtp_server):
    set_point(shop, browser)
    browser.get("/stock/low")
    browser.post("/stock/low/digest", {"enabled": "on", "recipient": "buyer@example.test"})
    smtp_server.shutdown()
    smtp_server.server_close()  # nothing listens on the port any more
    assert queue_digests(dt.date(2026, 12, 7)) == 1
    db.session.commit()
    Worker(app, worker_id="w-digest").run_pass()
    job = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == DIGEST_TOPIC)).one()
    db.session.refresh(job)
    assert job.status == JobStatus.FAILED and job.last_error.startswith("SMTP:")
