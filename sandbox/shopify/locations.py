"""What a merchant does to locations and app scopes in the Shopify admin, with the webhooks
Shopify sends for it (locations/*, app/scopes_update) in their published shapes."""
from __future__ import annotations

from . import operations
from .controls import _body, _id, _shop, bp, control
from .operations import UserError
from .state import Location, Shop, Store, iso

OPEN_FO = ("OPEN", "IN_PROGRESS", "SCHEDULED", "ON_HOLD")


def location_payload(loc: Location) -> dict:
    """The REST Location resource, as locations/create|update|activate|deactivate send it."""
    return {"id": loc.id, "name": loc.name, "address1": loc.address1, "address2": None,
            "city": loc.city, "zip": loc.zip, "province": None, "country": loc.country_code,
            "phone": None, "created_at": iso(loc.created_at), "updated_at": iso(loc.updated_at),
            "country_code": loc.country_code, "country_name": "Canada", "province_code": None,
            "legacy": loc.is_fulfillment_service, "active": loc.active,
            "admin_graphql_api_id": f"gid://shopify/Location/{loc.id}"}


def _location(shop: Shop, location_id) -> Location:
    loc = shop.locations.get(_id(location_id, "Location"))
    if loc is None:
        raise LookupError(f"location {location_id}")
    return loc


def create_location(store: Store, shop: Shop, name: str) -> Location:
    """locationAdd: a new merchant-managed location (active, stocking nothing yet)."""
    if not name.strip():
        raise UserError("Name can't be blank.", ["input", "name"])
    if any(loc.name == name.strip() for loc in shop.locations.values()):
        raise UserError("Name has already been taken.", ["input", "name"])
    now = store.now()
    loc = Location(id=store.next_id("Location"), name=name.strip(), kind="merchant",
                   created_at=now, updated_at=now)
    shop.locations[loc.id] = loc
    store.emit(shop.domain, "locations/create", location_payload(loc))
    return loc


def rename_location(store: Store, shop: Shop, loc: Location, name: str) -> Location:
    """locationEdit with a new name: locations/update."""
    if not name.strip():
        raise UserError("Name can't be blank.", ["input", "name"])
    loc.name, loc.updated_at = name.strip(), store.now()
    store.emit(shop.domain, "locations/update", location_payload(loc))
    return loc


def deactivate_location(store: Store, shop: Shop, loc: Location,
                        destination: Location | None) -> Location:
    """locationDeactivate: open fulfillment orders there move to ``destination`` (Shopify
    refuses without one while any is open); then locations/deactivate."""
    if not loc.active:
        raise UserError("Location is already deactivated.", ["locationId"])
    open_fos = [fo for fo in shop.fulfillment_orders.values()
                if fo.location_id == loc.id and fo.status in OPEN_FO]
    if open_fos and destination is None:
        raise UserError("Location has open fulfillment orders: choose a destination location.",
                        ["destinationLocationId"], code="HAS_FULFILLMENT_ORDERS")
    if destination is not None and (destination.id == loc.id or not destination.active):
        raise UserError("Destination location must be another active location.",
                        ["destinationLocationId"])
    for fo in open_fos:
        for line in fo.lines:  # the destination stocks what it receives (Shopify relocates it)
            shop.level(operations.item_id_of(shop, line.line_item_id), destination.id,
                       create=True)
        operations.move(store, shop, fo.id, destination.id, None)
    loc.active, loc.updated_at = False, store.now()
    store.emit(shop.domain, "locations/deactivate", location_payload(loc))
    return loc


def activate_location(store: Store, shop: Shop, loc: Location) -> Location:
    """locationActivate: locations/activate."""
    if loc.active:
        raise UserError("Location is already active.", ["locationId"])
    loc.active, loc.updated_at = True, store.now()
    store.emit(shop.domain, "locations/activate", location_payload(loc))
    return loc


def delete_location(store: Store, shop: Shop, loc: Location) -> None:
    """locationDelete: only a deactivated location; locations/delete names just its id."""
    if loc.active:
        raise UserError("Location must be deactivated before it can be deleted.",
                        ["locationId"], code="LOCATION_IS_ACTIVE")
    del shop.locations[loc.id]
    for key in [k for k in shop.levels if k[1] == loc.id]:
        del shop.levels[key]
    store.emit(shop.domain, "locations/delete", {"id": loc.id})


def change_scopes(sandbox, shop: Shop, client_id: str, scopes: list[str]) -> dict:
    """The granted scopes change (optional scopes granted or revoked, a new app version's
    scopes accepted): the installation and its live tokens carry the new set, and
    app/scopes_update tells that app the previous and current scopes."""
    inst = sandbox.store.installation(shop.domain, client_id)
    if inst is None:
        raise UserError("App is not installed on this shop.")
    previous, current = sorted(inst.scopes), sorted(set(scopes))
    inst.scopes = current
    for tok in sandbox.store.tokens.values():
        if tok.shop == shop.domain and tok.client_id == client_id and not tok.revoked:
            tok.scopes = list(current)
    for rt in sandbox.store.refresh_tokens.values():
        if rt.shop == shop.domain and rt.client_id == client_id:
            rt.scopes = list(current)
    payload = {"id": sandbox.store.next_id("AppScopesUpdate"),
               "shop_id": f"gid://shopify/Shop/{shop.id}",
               "previous": previous, "current": current,
               "updated_at": iso(sandbox.store.now())}
    sandbox.store.emit(shop.domain, "app/scopes_update", payload, client_id=client_id)
    return payload


# --- /_sandbox/ controls ---------------------------------------------------------------------

@bp.post("/shops/<shop>/locations")
@control
def add_location(sandbox, shop):
    """The merchant adds a location: ``{name}``."""
    loc = create_location(sandbox.store, _shop(sandbox, shop), _body().get("name") or "")
    return {"id": loc.id, "gid": f"gid://shopify/Location/{loc.id}", "name": loc.name}


@bp.post("/shops/<shop>/locations/<location_id>/<any(rename, deactivate, activate, delete):action>")
@control
def change_location(sandbox, shop, location_id, action):
    """rename ``{name}`` | deactivate ``{destination_location_id?}`` | activate | delete."""
    s = _shop(sandbox, shop)
    loc, body = _location(s, location_id), _body()
    if action == "rename":
        rename_location(sandbox.store, s, loc, body.get("name") or "")
    elif action == "deactivate":
        dest = body.get("destination_location_id")
        deactivate_location(sandbox.store, s, loc, _location(s, dest) if dest else None)
    elif action == "activate":
        activate_location(sandbox.store, s, loc)
    else:
        delete_location(sandbox.store, s, loc)
        return {"id": loc.id, "deleted": True}
    return {"id": loc.id, "name": loc.name, "active": loc.active}


@bp.post("/shops/<shop>/scopes")
@control
def set_scopes(sandbox, shop):
    """The app's granted scopes become ``{scopes: [...], client_id?}``."""
    body = _body()
    scopes = body.get("scopes")
    if not isinstance(scopes, list) or not all(isinstance(x, str) for x in scopes):
        raise ValueError("scopes: a list of scope handles")
    client_id = body.get("client_id") or next(iter(sandbox.store.apps), "")
    return change_scopes(sandbox, _shop(sandbox, shop), client_id, scopes)
