"""The shared stock model: levels per (location, item), changed only through the ledger."""
from app.stock.levels import (ADJUST_REASONS, adjust_stock, apply_movements, ledger_sum,
                              require_location)

__all__ = ["ADJUST_REASONS", "adjust_stock", "apply_movements", "ledger_sum",
           "require_location"]
