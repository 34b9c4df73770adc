"""Channel aggregate: a connected store, its locations and its listings (variants)."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk
from app.models.stock import InventoryItem, StockLocation


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
    # Resumable imports and reconciliation: {"orders": {"cursor": …, "done": bool}, …}
    sync_cursors: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))


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
    created_at: Mapped[dt.datetime] = created_at_column()

    channel: Mapped[Channel] = relationship()
    stock_location: Mapped[StockLocation | None] = relationship()


class ChannelListing(db.Model):
    """A platform variant (and its inventory item) matched by SKU to an InventoryItem."""

    __tablename__ = "channel_listings"
    __table_args__ = (UniqueConstraint("channel_id", "remote_variant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    remote_product_id: Mapped[str] = mapped_column(String(255), default="")
    remote_variant_id: Mapped[str] = mapped_column(String(255))
    remote_inventory_item_id: Mapped[str | None] = mapped_column(String(255))
    sku: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(512), default="")
    # Null while no InventoryItem has this SKU: listed as unmatched, never guessed.
    inventory_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_items.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = created_at_column()

    inventory_item: Mapped[InventoryItem | None] = relationship()
