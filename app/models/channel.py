"""Channel aggregate: a connected store, its locations and its listings (variants)."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk, utcnow
from app.models.stock import InventoryItem, StockLocation, sku_key


class Platform(enum.StrEnum):
    """The platforms an order can come from."""

    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"


class ChannelStatus(enum.StrEnum):
    """Whether the channel is connected."""

    ACTIVE = "active"
    UNINSTALLED = "uninstalled"


class Channel(db.Model):
    """A connected store: a Shopify shop or a WooCommerce store of one merchant."""

    __tablename__ = "channels"
    # A shop or store belongs to exactly one merchant.
    __table_args__ = (UniqueConstraint("platform", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    platform: Mapped[str] = mapped_column(String(16))
    # Shopify: the myshopify.com domain; WooCommerce: the store URL.
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    # Fernet tokens (app.security.crypto); never stored or logged in clear.
    credentials_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    scopes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ChannelStatus.ACTIVE)
    installed_at: Mapped[dt.datetime] = created_at_column()
    uninstalled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Shopify: when Shopify was seen refusing the channel's token, which confirmed the
    # uninstall (NULL while installed, and for an uninstall recorded before it was checked).
    uninstall_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When the merchant created Stockroom's items from this channel's catalog (onboarding).
    catalog_seeded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Resumable imports and reconciliation: {"orders": {"cursor": …, "done": bool}, …}
    sync_cursors: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))


class RemoteStatus(enum.StrEnum):
    """What the platform says of one of its locations (Shopify locations/* webhooks)."""

    ACTIVE = "active"      # stocks and fulfills: pushed to once mapped and confirmed
    INACTIVE = "inactive"  # deactivated on the platform: nothing pushed there
    DELETED = "deleted"    # deleted on the platform: nothing pushed there, ever again


class ChannelLocation(db.Model):
    """A platform location, mapped to at most one stock location (unmapped is allowed)."""

    __tablename__ = "channel_locations"
    __table_args__ = (UniqueConstraint("channel_id", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    remote_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    # merchant_managed | fulfillment_service | external | store (WooCommerce)
    kind: Mapped[str] = mapped_column(String(32), default="merchant_managed")
    stock_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="SET NULL"), index=True)
    # Opening stock (app/catalog/opening.py): where the truth was when the merchant
    # confirmed ("platform": its quantities became Stockroom's opening balance;
    # "stockroom": Stockroom's are pushed). No inventory push goes here before that.
    stock_truth: Mapped[str | None] = mapped_column(String(16))
    stock_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # RemoteStatus: a location deactivated or deleted on the platform keeps its row and
    # mapping (history, a later reactivation) but gets no inventory push (app/stock/push.py).
    remote_status: Mapped[str] = mapped_column(String(16), default=RemoteStatus.ACTIVE,
                                               server_default=text("'active'"))
    remote_status_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_at_column()

    channel: Mapped[Channel] = relationship()
    stock_location: Mapped[StockLocation | None] = relationship()

    @property
    def active_on_platform(self) -> bool:
        """Neither deactivated nor deleted on the platform (pushes and moves may go here)."""
        return self.remote_status == RemoteStatus.ACTIVE


class MatchStatus(enum.StrEnum):
    """Where a listing stands with Stockroom's catalog."""

    MATCHED = "matched"      # linked to an item: its quantity is Stockroom's to push
    UNMATCHED = "unmatched"  # no item yet; match_note says why (listed, never guessed)
    IGNORED = "ignored"      # the merchant chose not to track it: never matched or pushed
    DELETED = "deleted"      # gone from the store: never pushed to again


class ChannelListing(db.Model):
    """A platform variant (and its inventory item), matched to an InventoryItem by SKU or
    barcode, by the merchant, or not at all (match_status, match_note: app/catalog/)."""

    __tablename__ = "channel_listings"
    __table_args__ = (UniqueConstraint("channel_id", "remote_variant_id"),
                      Index("ix_channel_listings_merchant_status", "merchant_id",
                            "match_status"),
                      Index("ix_channel_listings_channel_sku_key", "channel_id", "sku_key"),
                      # A product webhook looks its listings up by product.
                      Index("ix_channel_listings_channel_product", "channel_id",
                            "remote_product_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    remote_product_id: Mapped[str] = mapped_column(String(255), default="")
    remote_variant_id: Mapped[str] = mapped_column(String(255))
    remote_inventory_item_id: Mapped[str | None] = mapped_column(String(255))
    sku: Mapped[str] = mapped_column(String(255), default="")
    # sku_key(sku) (app/models/stock.py), kept by the validator below.
    sku_key: Mapped[str] = mapped_column(
        String(255), server_default=text("''"),
        default=lambda ctx: sku_key(ctx.get_current_parameters().get("sku") or ""))
    title: Mapped[str] = mapped_column(String(512), default="")
    # What the adapter found malformed in the platform's data ("" when nothing): listed
    # as the reason it is unmatched, never matched automatically.
    problem: Mapped[str] = mapped_column(String(500), default="", server_default=text("''"))
    barcode: Mapped[str] = mapped_column(String(64), default="", server_default=text("''"))
    image_url: Mapped[str] = mapped_column(String(2048), default="", server_default=text("''"))
    # Null while no InventoryItem matches: listed as unmatched, never guessed.
    inventory_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_items.id", ondelete="SET NULL"), index=True)
    match_status: Mapped[str] = mapped_column(String(16), default=MatchStatus.UNMATCHED,
                                              server_default=text("'unmatched'"))
    # How it was matched ("SKU", "barcode", "by hand", "created from this listing") or why
    # not ("no SKU on the store", "SKU on 2 listings of this store", …).
    match_note: Mapped[str] = mapped_column(String(500), default="", server_default=text("''"))
    # An item the merchant may mean (same SKU but for case or spacing): offered, not applied.
    suggested_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_items.id", ondelete="SET NULL"))
    # True once the merchant matched, created or ignored it: automatic matching leaves it be.
    decided_by_merchant: Mapped[bool] = mapped_column(Boolean, default=False,
                                                      server_default=text("false"))
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=utcnow,
                                                           onupdate=utcnow)

    inventory_item: Mapped[InventoryItem | None] = relationship(
        foreign_keys=[inventory_item_id])

    @validates("sku")
    def _keep_sku_key(self, _key: str, value: str) -> str:
        self.sku_key = sku_key(value)
        return value


class ChannelListingLevel(db.Model):
    """The platform's own quantities of one listing at one platform location, as last read
    (shown beside Stockroom's before the merchant chooses the opening stock)."""

    __tablename__ = "channel_listing_levels"
    __table_args__ = (UniqueConstraint("channel_location_id", "listing_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    channel_location_id: Mapped[int] = mapped_column(
        ForeignKey("channel_locations.id", ondelete="CASCADE"))
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("channel_listings.id", ondelete="CASCADE"), index=True)
    # None: the platform does not track this quantity (WooCommerce with stock management off).
    on_hand: Mapped[int | None] = mapped_column(Integer)
    available: Mapped[int | None] = mapped_column(Integer)
    committed: Mapped[int | None] = mapped_column(Integer)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
