"""The embedded app's chrome through App Bridge, in a real browser inside the sandbox admin:
pages in the admin's sidebar (ui-nav-menu), the page title in its title bar (ui-title-bar),
the admin's loading bar during htmx requests (shopify.loading), the admin URL following the
app's page (a reload lands on it), Back without page errors, and a 360 px phone frame. The
sandbox records every App Bridge misuse; each test asserts there is none, and one proves
the check fires."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import assert_accessible

pytestmark = pytest.mark.e2e

ADMIN = "/store/demo-shop/apps/stockroom"
ADMIN_RE = r"/store/demo-shop(\.myshopify\.com)?/apps/stockroom"  # the shop by handle or domain


def _open(world, page, query: str = ""):
    """Install from the admin and wait for the app's pages in the admin's sidebar."""
    page.goto(f"{world.sandbox_http}{ADMIN}{query}")
    page.get_by_role("button", name="Install app").click()
    nav = page.get_by_role("navigation", name="Stockroom pages")
    expect(nav.get_by_role("link", name="Orders", exact=True)).to_be_visible(timeout=20_000)
    return nav, page.frame_locator("#app-frame")


def _app_frame(world, page):
    return next(f for f in page.frames if f.url.startswith(world.url))


def test_pages_in_the_admin_sidebar_and_title_bar_no_bar_of_our_own(shopify_world, page):
    world = shopify_world
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    nav, app = _open(world, page)
    expect(app.locator("header.topbar")).to_have_count(0)  # no nav bar inside the iframe
    expect(app.get_by_role("navigation", name="Main")).to_have_count(0)
    # The rel="home" link is the app itself, not an entry of the sidebar.
    expect(nav.get_by_role("link", name="Home")).to_have_count(0)
    nav.get_by_role("link", name="Inventory", exact=True).click()
    expect(app.get_by_role("heading", name="Inventory", exact=True)).to_be_visible()
    expect(page.locator("#admin-title")).to_have_text("Inventory")
    # The title is the admin's to show: the page's h1 is for screen readers only, not drawn
    # a second time under the title bar.
    heading = app.get_by_role("heading", name="Inventory", exact=True).bounding_box()
    assert heading["width"] <= 1 and heading["height"] <= 1, heading
    expect(nav.get_by_role("link", name="Inventory", exact=True)).to_have_attribute(
        "aria-current", "page")
    nav.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator("#admin-title")).to_have_text("Orders")
    assert errors == []
    assert world.control("GET", "app-bridge/misuse") == []


def test_loading_bar_during_htmx_requests(shopify_world, page):
    world = shopify_world
    nav, app = _open(world, page)
    before = len(world.control("GET", "app-bridge/loading"))
    nav.get_by_role("link", name="Locations", exact=True).click()
    expect(app.get_by_role("heading", name="Locations", exact=True)).to_be_visible()
    loads = world.control("GET", "app-bridge/loading")[before:]
    assert loads, "the admin showed no loading bar for the boosted navigation"
    expect(page.locator("#admin-loading")).to_be_hidden()  # and hid it when it ended
    assert world.control("GET", "app-bridge/misuse") == []


def test_admin_url_follows_the_app_and_a_reload_lands_on_the_same_page(shopify_world, page):
    world = shopify_world
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    nav, app = _open(world, page)
    nav.get_by_role("link", name="Inventory", exact=True).click()
    expect(app.get_by_role("heading", name="Inventory", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(ADMIN_RE + r"/inventory$"))
    nav.get_by_role("link", name="Orders", exact=True).click()
    expect(page).to_have_url(re.compile(ADMIN_RE + r"/orders$"))
    order_link = app.locator("#order-rows tbody th a").first
    expect(order_link).to_be_visible(timeout=30_000)  # the install's import, polled every 10 s
    name = order_link.inner_text()
    order_link.click()
    expect(app.locator("#order-timeline")).to_be_visible()
    expect(page).to_have_url(re.compile(ADMIN_RE + r"/orders/\d+$"))
    order_url = page.url
    # The admin's title bar: the order's title, its breadcrumb and primary action.
    title_bar = page.locator("#admin-title-bar")
    expect(page.locator("#admin-title")).to_have_text(re.compile("^Order "))
    expect(title_bar.get_by_role("link", name="Orders")).to_be_visible()
    page.reload()
    expect(app.locator("#order-timeline")).to_be_visible(timeout=20_000)
    expect(app.get_by_role("heading", name=re.compile(re.escape(name)))).to_be_visible()
    assert page.url == order_url
    assert _app_frame(world, page).url.split("?")[0].endswith(order_url.split("/apps/stockroom")[1])
    title_bar.get_by_role("button", name="Fulfill items").click()  # clicks the app's button
    expect(app.locator("#fulfill-form")).to_be_visible()
    expect(page).to_have_url(re.compile(ADMIN_RE + r"/orders/\d+/fulfill"))
    page.go_back()
    expect(app.locator("#order-timeline")).to_be_visible()
    # Back and forward through the boosted pages: no JavaScript errors.
    nav.get_by_role("link", name="Inventory", exact=True).click()
    expect(app.get_by_role("heading", name="Inventory", exact=True)).to_be_visible()
    _app_frame(world, page).evaluate("history.back()")
    expect(app.locator("#order-timeline")).to_be_visible()
    expect(page).to_have_url(order_url)
    _app_frame(world, page).evaluate("history.forward()")
    expect(app.get_by_role("heading", name="Inventory", exact=True)).to_be_visible()
    assert errors == []
    assert world.control("GET", "app-bridge/misuse") == []


def test_the_admin_path_never_frames_another_host(shopify_world, page):
    """/store/<shop>/apps/<handle>/<path> frames the app's origin + path, whatever the path."""
    world = shopify_world
    _open(world, page)
    for path in ("/%2F%2Fevil.example/x", "//evil.example/x", "/..%2F..%2Fevil"):
        response = page.goto(f"{world.sandbox_http}{ADMIN}{path}")
        if response.status == 200:
            src = page.locator("#app-frame").get_attribute("src")
            assert src.startswith(world.url + "/"), src
        else:
            assert response.status == 404, (path, response.status)


def test_mobile_viewport_frames_the_app_360_px_wide(shopify_world, page):
    world = shopify_world
    page.goto(f"{world.sandbox_http}{ADMIN}?viewport=mobile")
    page.get_by_role("button", name="Install app").click()
    frame_box = page.locator("#app-frame")
    expect(frame_box).to_be_visible(timeout=20_000)
    app = page.frame_locator("#app-frame")
    expect(app.locator("ui-nav-menu")).to_have_count(1, timeout=20_000)
    app.locator("ui-nav-menu a", has_text="Orders").evaluate("a => a.click()")
    expect(app.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
    assert page.locator("#app-frame").bounding_box()["width"] == 360
    frame = _app_frame(world, page)
    assert frame.evaluate("window.innerWidth") == 360
    overflow = frame.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the orders page scrolls {overflow} px sideways at 360 px"
    expect(page).to_have_url(re.compile(ADMIN_RE + r"/orders\?viewport=mobile$"))
    # Every page of the sidebar fits the phone's width (wide tables scroll in their own box)
    # and passes axe-core's WCAG 2.1 A/AA rules inside the admin's frame.
    assert_accessible(frame, "Orders at 360 px, embedded")
    wide = {}
    for name in ("Inventory", "Listings", "Locations", "Transfers", "Receiving", "Low stock",
                 "Sync", "Connections", "Settings", "Set up", "Stock CSV"):
        app.locator("ui-nav-menu a", has_text=name).first.evaluate("a => a.click()")
        expect(page.locator("#admin-title")).to_have_text(re.compile(name, re.I))
        page.wait_for_load_state("networkidle")
        overflow = frame.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            wide[name] = overflow
        assert_accessible(frame, f"{name} at 360 px, embedded")
    assert wide == {}, f"pages scrolling sideways at 360 px (px): {wide}"
    assert world.control("GET", "app-bridge/misuse") == []


def test_the_sandbox_records_app_bridge_misuse(shopify_world, page):
    """The test page itself adds wrong elements to the app's document (the app is not
    patched): a nav link outside the app's URL, two primary buttons, a modal without id."""
    world = shopify_world
    _open(world, page)
    assert world.control("GET", "app-bridge/misuse") == []
    _app_frame(world, page).evaluate("""() => {
      const nav = document.querySelector("ui-nav-menu");
      const a = document.createElement("a"); a.href = "https://evil.example/steal"; a.textContent = "Evil";
      nav.appendChild(a);
      const bar = document.querySelector("ui-title-bar");
      for (const t of ["One", "Two"]) {
        const b = document.createElement("button"); b.setAttribute("variant", "primary");
        b.textContent = t; bar.appendChild(b);
      }
      document.body.appendChild(document.createElement("ui-modal"));
    }""")
    expect(page.locator("#admin-title-bar")).to_contain_text("Two")
    wanted = ("outside the app's URL: https://evil.example/steal",
              "more than one primary button", "ui-modal without an id")
    # The admin frame posts each misuse with its own fetch(): they land one by one.
    deadline = time.monotonic() + 10
    while True:
        messages = " | ".join(m["message"] for m in world.control("GET", "app-bridge/misuse"))
        if all(w in messages for w in wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [w for w in wanted if w not in messages] == [], messages
    expect(page.get_by_role("navigation", name="Stockroom pages").get_by_role(
        "link", name="Evil")).to_have_count(0)


def test_unsaved_changes_raise_the_admins_save_bar(shopify_world, page):
    """A form[data-save-bar] with changes raises the admin's save bar; leaving through the
    admin's sidebar is refused while it is up; Discard puts the form back, Save submits it."""
    world = shopify_world
    nav, app = _open(world, page)
    nav.get_by_role("link", name="Settings", exact=True).click()
    expect(app.get_by_role("heading", name="Time zone")).to_be_visible()
    bar = page.get_by_role("region", name="Unsaved changes")
    expect(bar).to_be_hidden()
    zone = app.get_by_role("combobox", name="Time zone")
    before = zone.input_value()
    zone.select_option("Asia/Tokyo")
    expect(bar).to_be_visible()
    nav.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator("#admin-title")).to_have_text("Settings")  # kept on the page
    deadline = time.monotonic() + 10  # each event is its own fetch() from the admin frame
    while True:
        events = [e["event"] for e in world.control("GET", "app-bridge/save-bar")]
        if events[-2:] == ["shown", "leave_blocked"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert events[-2:] == ["shown", "leave_blocked"], events
    bar.get_by_role("button", name="Discard").click()
    expect(bar).to_be_hidden()
    assert zone.input_value() == before
    zone.select_option("Asia/Tokyo")
    bar.get_by_role("button", name="Save").click()
    expect(app.get_by_text("Dates and times are shown in Asia/Tokyo time")).to_be_visible()
    expect(bar).to_be_hidden()
    nav.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator("#admin-title")).to_have_text("Orders")
    assert world.control("GET", "app-bridge/misuse") == []
