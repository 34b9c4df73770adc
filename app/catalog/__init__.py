"""The catalog: Stockroom's items, the stores' listings matched to them, opening stock.

- listings.py: what adapters hand in (RemoteVariant, RemoteLevel) and the matching rules;
- items.py: items created from listings or by hand; matching, ignoring by the merchant;
- opening.py: the platform's or Stockroom's counts as the truth, per mapped location.
"""
from app.catalog.items import (OPENING_REASON, create_item, create_items_from_listings,
                               ignore_listings, match_listing, match_listing_to_sku,
                               reconsider_listings, require_item, seed_catalog_from_channel,
                               update_item)
from app.catalog.listings import (RemoteLevel, RemoteVariant, record_remote_levels,
                                  rematch_channel, rematch_merchant, remove_remote_listings,
                                  upsert_remote_listings)
from app.catalog.opening import (TRUTHS, AlreadyConfirmed, comparison, confirm_opening_stock,
                                 unconfirmed_locations)

__all__ = ["OPENING_REASON", "TRUTHS", "AlreadyConfirmed", "RemoteLevel", "RemoteVariant",
           "comparison", "confirm_opening_stock", "create_item", "create_items_from_listings",
           "ignore_listings", "match_listing", "match_listing_to_sku", "reconsider_listings",
           "record_remote_levels", "rematch_channel", "rematch_merchant",
           "remove_remote_listings", "require_item", "seed_catalog_from_channel",
           "unconfirmed_locations", "update_item", "upsert_remote_listings"]
