"""Fulfillments: create, ship, deliver, re-track and cancel, with stock moved through the ledger."""
from app.fulfillment.service import (Tracking, cancel_fulfillment, create_fulfillment,
                                     create_platform_fulfillment, mark_delivered, mark_shipped,
                                     update_tracking)

__all__ = ["Tracking", "cancel_fulfillment", "create_fulfillment", "create_platform_fulfillment",
           "mark_delivered", "mark_shipped", "update_tracking"]
