"""SQLAlchemy models, one module per aggregate; import them from here."""
from app.models.bulk_operation import BulkOperation
from app.models.channel import (Channel, ChannelListing, ChannelListingLevel, ChannelLocation,
                                ChannelStatus, MatchStatus, Platform)
from app.models.channel import RemoteStatus
from app.models.fulfillment import (Fulfillment, FulfillmentLine, FulfillmentStatus, Origin,
                                    SyncState)
from app.models.fulfillment_order import FulfillmentOrder, FulfillmentOrderLine
from app.models.inventory_push import InventoryPushState
from app.models.merchant import Merchant
from app.models.order import Order, OrderLine, OrderStatusCount
from app.models.order_return import OrderReturn, OrderReturnLine
from app.models.print_settings import SlipSettings
from app.models.rate_limit import ShopifyRateBucket
from app.models.refund import Refund, RefundLine
from app.models.stock import InventoryItem, InventoryLevel, InventoryMovement, StockLocation
from app.models.security import FormSubmission, UsedNonce
from app.models.sync import JobStatus, OutboxEvent, WebhookInbox
from app.models.user import LoginAttempt, User
from app.models.warehouse import (StockImport, Transfer, TransferEvent, TransferLine,
                                  TransferStatus)
from app.models.warehouse_ops import (LowStockDigest, LowStockDigestSetting, PackCount,
                                      PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine,
                                      PurchaseOrderStatus, ReorderPoint)

__all__ = [
    "BulkOperation",
    "Channel", "ChannelListing", "ChannelListingLevel", "ChannelLocation", "ChannelStatus", "FormSubmission", "Fulfillment", "RemoteStatus",
    "FulfillmentLine", "FulfillmentOrder", "FulfillmentOrderLine", "FulfillmentStatus",
    "InventoryItem", "InventoryLevel", "InventoryMovement", "InventoryPushState", "JobStatus", "LoginAttempt", "MatchStatus", "Merchant", "Order", "OrderLine", "OrderStatusCount", "Origin",
    "OrderReturn", "OrderReturnLine", "ShopifyRateBucket", "SlipSettings",
    "OutboxEvent", "Platform", "Refund", "RefundLine", "StockLocation", "SyncState", "UsedNonce", "User", "WebhookInbox",
    "StockImport", "Transfer", "TransferEvent", "TransferLine", "TransferStatus",
    "LowStockDigest", "LowStockDigestSetting", "PackCount", "PurchaseOrder", "PurchaseOrderEvent",
    "PurchaseOrderLine", "PurchaseOrderStatus", "ReorderPoint",
]
