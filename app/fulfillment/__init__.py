"""Fulfillments: lifecycle (stock through the ledger), allocation over locations (auto split), bulk fulfill."""
from app.fulfillment.allocation import LocationOption, SplitPart, auto_split, location_options
from app.fulfillment.bulk import fulfill_auto_split, fulfill_whole_order
from app.fulfillment.service import (NOTHING_CHOSEN, Tracking, cancel_fulfillment,
                                     create_fulfillment, create_platform_fulfillment,
                                     fulfillment_input_problems, line_quantity_problems,
                                     mark_delivered, mark_shipped, update_tracking)

__all__ = ["NOTHING_CHOSEN", "LocationOption", "SplitPart", "Tracking", "auto_split",
           "cancel_fulfillment", "create_fulfillment", "create_platform_fulfillment",
           "fulfill_auto_split", "fulfill_whole_order", "fulfillment_input_problems",
           "line_quantity_problems", "location_options", "mark_delivered", "mark_shipped",
           "update_tracking"]
