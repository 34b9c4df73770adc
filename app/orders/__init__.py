"""Orders from every channel and their derived fulfillment status."""
from app.orders.status import OrderStatus, order_status

__all__ = ["OrderStatus", "order_status"]
