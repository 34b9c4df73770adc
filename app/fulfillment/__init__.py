"""Fulfillments: lifecycle (stock through the ledger), allocation over locations (auto split), bulk fulfill."""
from app.fulfillment.allocation import LocationOption, SplitPart, auto_split, location_options
from app.fulfillment.bulk import fulfill_auto_split, fulfill_whole_order
from app.fulfillment.service import (Tracking, cancel_fulfillment, create_fulfillment,
                                     create_platform_fulfillment, mark_delivered, mark_shipped,
                                     update_tracking)

__all__ = ["LocationOption", "SplitPart", "Tracking", "auto_split", "cancel_fulfillment",
           "create_fulfillment", "create_platform_fulfillment", "fulfill_auto_split",
           "fulfill_whole_order", "location_options", "mark_delivered", "mark_shipped",
           "update_tracking"]
