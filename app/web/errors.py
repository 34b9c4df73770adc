"""How the web layer answers each domain error: one table of HTTP statuses, by error type."""
from __future__ import annotations

from app.catalog.opening import AlreadyConfirmed
from app.errors import (DomainError, IllegalTransition, InsufficientStock, InvalidInput,
                        NotFound, OrderCanceled, QuantityExceedsUnfulfilled)
from app.orders.refunds import UnmappedRestockLocation
from app.platforms.shopify.actions import (FulfillmentOrderActionError,
                                           FulfillmentOrderInputError, ShopifyUnreachable)
from app.warehouse.csv_levels import ImportNotApplicable, StalePreview
from app.warehouse.transfers import ReceiveExceedsShipped, TransferStateConflict
from app.web.accounts import BadCredentials, TooManyAttempts

#: 422: the input is wrong (fix it and resend); 409: it conflicts with the current state
#: (look again); 404: not this merchant's; 502: the platform could not be reached.
#: A type not listed takes its nearest listed base class's status. (The WooCommerce key
#: callback, a JSON endpoint of app/platforms, answers its ConnectRefused with 400 itself.)
STATUS_BY_ERROR: dict[type[DomainError], int] = {
    DomainError: 422,
    InvalidInput: 422,
    NotFound: 404,
    InsufficientStock: 409,
    QuantityExceedsUnfulfilled: 409,
    IllegalTransition: 409,
    OrderCanceled: 409,
    AlreadyConfirmed: 409,
    UnmappedRestockLocation: 409,
    ReceiveExceedsShipped: 409,
    TransferStateConflict: 409,
    ImportNotApplicable: 422,
    StalePreview: 409,
    FulfillmentOrderActionError: 409,
    FulfillmentOrderInputError: 422,
    ShopifyUnreachable: 502,
    BadCredentials: 401,
    TooManyAttempts: 429,
}


def http_status(error: DomainError) -> int:
    """The HTTP status a page or endpoint answers ``error`` with."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 422
