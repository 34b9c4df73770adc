"""The merchant's own settings (time zone), any platform."""
from app.merchants.timezones import (adopt_store_timezone, merchant_timezone, set_timezone,
                                     timezone_choices)

__all__ = ["adopt_store_timezone", "merchant_timezone", "set_timezone", "timezone_choices"]
