"""Listings: every store's listings, matched to items or not, and what the merchant decides."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import g, request

from app.auth import login_required
from app.catalog import (create_items_from_listings, ignore_listings, match_listing,
                         match_listing_to_sku, reconsider_listings)
from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import optional_int
from app.web.read_models import common, listings
from app.web.read_models.listings import LISTING_STATUSES, ListingFilters
from app.web.rendering import render, with_toast

FRAGMENTS = {"listings": "web/listings/_listings.html"}
#: A page shows at most LISTINGS_PER_PAGE; a bulk action takes no more than this.
MAX_SELECTED = 500
ACTIONS = ("create", "ignore", "reconsider")


@dataclass
class Report:
    """What an action did, listing by listing (shown above the list)."""

    title: str
    created: list[str] = field(default_factory=list)    # SKUs of new items
    matched: list[str] = field(default_factory=list)    # "listing → item SKU"
    changed: list[str] = field(default_factory=list)    # "listing: what it is now"
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (listing, why)


def _filters(source: Mapping[str, str]) -> ListingFilters:
    status = source.get("status") or "unmatched"
    return ListingFilters(status=status if status in (*LISTING_STATUSES, "all") else "unmatched",
                          channel_id=optional_int(source.get("channel")),
                          q=(source.get("q") or "")[:200],
                          page=optional_int(source.get("page")) or 1)


def _page(filters: ListingFilters, status: int = 200, **extra):
    context = {"filters": filters, "listing_page": listings.listings_page(g.merchant_id, filters),
               "channels": common.channels(g.merchant_id), "report": None, "error": None,
               "statuses": LISTING_STATUSES, **extra}
    return render("web/listings/index.html", FRAGMENTS, status=status, **context)


@bp.get("/listings")
@login_required
def list_listings():
    """Listings of every store: search, status and channel filters, pages of 50."""
    return _page(_filters(request.args))


def _selected_ids(form) -> list[int]:
    """The ticked listing ids; a value that is no listing id is reported as not found."""
    raw = form.getlist("listing_id")
    if len(raw) > MAX_SELECTED:
        raise InvalidInput(f"Select at most {MAX_SELECTED} listings at a time.", field="listings")
    ids = [optional_int(v) for v in raw]
    if any(i is None for i in ids):
        raise NotFound("Some of those listings do not exist.")
    if not ids:
        raise InvalidInput("Select at least one listing.", field="listings")
    return ids


@bp.post("/listings/bulk")
@login_required
def act_on_listings():
    """Create items from, ignore, or reconsider the selected listings (once per form)."""
    form, filters = request.form, _filters(request.form)
    action = form.get("action", "")
    try:
        if action not in ACTIONS:
            raise InvalidInput("Choose what to do with the selected listings.", field="listings")
        ids = _selected_ids(form)
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        report = _run(action, ids)
        submission.outcome = report.title
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return _page(filters, report=Report(repeat.message))
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _page(filters, http_status(error), error=error.message)
    return with_toast(_page(filters, report=report), report.title)


def _run(action: str, ids: list[int]) -> Report:
    """Call the core for ``action`` and say, per listing, what became of it."""
    labels = listings.listing_labels(g.merchant_id, ids)
    if action == "create":
        result = create_items_from_listings(g.merchant_id, ids)
        outcome = Report(_created_title(result), created=result["created"],
                         skipped=[(labels.get(i, f"Listing {i}"), why)
                                  for i, why in result["skipped"].items()])
        outcome.matched = [f"{labels[lst.id]} → {lst.inventory_item.sku}"
                           for lst in listings.listings_of(g.merchant_id, result["matched_listings"])
                           if lst.inventory_item is not None]
        return outcome
    if action == "ignore":
        ignore_listings(g.merchant_id, ids)
    else:
        reconsider_listings(g.merchant_id, ids)
    report = Report("")
    for listing in listings.listings_of(g.merchant_id, ids):
        label = labels[listing.id]
        if listing.match_status == "deleted":
            report.skipped.append((label, "It was deleted on the store."))
        elif listing.match_status == "matched" and listing.inventory_item is not None:
            report.changed.append(f"{label}: matched to {listing.inventory_item.sku} "
                                  f"({listing.match_note})")
        else:
            report.changed.append(f"{label}: {listing.match_status} — {listing.match_note}")
    done = len(report.changed)
    verb = "ignored" if action == "ignore" else "reconsidered"
    report.title = (f"{done} listing{'s' if done != 1 else ''} {verb}"
                    + (f", {len(report.skipped)} skipped." if report.skipped else "."))
    return report


def _created_title(result: dict) -> str:
    created, matched, skipped = (len(result["created"]), len(result["matched"]),
                                 len(result["skipped"]))
    parts = [f"{created} item{'s' if created != 1 else ''} created"]
    if matched:
        parts.append(f"{matched} listing{'s' if matched != 1 else ''} matched to existing items")
    if skipped:
        parts.append(f"{skipped} skipped")
    return ", ".join(parts) + "."


@bp.post("/listings/<int:listing_id>/match")
@login_required
def match_channel_listing(listing_id: int):
    """Match one listing: to the suggested item (one click), or to the SKU typed."""
    form, filters = request.form, _filters(request.form)
    listings.channel_listing(g.merchant_id, listing_id)  # another merchant's: 404 before all
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        item_id = optional_int(form.get("item_id"))
        listing = (match_listing(g.merchant_id, listing_id, item_id) if item_id
                   else match_listing_to_sku(g.merchant_id, listing_id, form.get("sku", "")))
        label = listings.listing_labels(g.merchant_id, [listing.id])[listing.id]
        submission.outcome = f"{label} matched to {listing.inventory_item.sku}."
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return _page(filters, report=Report(repeat.message))
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _page(filters, http_status(error), row_errors={listing_id: error.message},
                     row_form={listing_id: form.get("sku", "")})
    report = Report(submission.outcome)
    return with_toast(_page(filters, report=report), submission.outcome)

