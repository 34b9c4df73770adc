"""The small HTML admin under /_sandbox/: the store owner's screens (products, orders, actions,
webhooks)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template_string, request, url_for

from sandbox.woocommerce import actions, seed
from sandbox.woocommerce.state import Sandbox, Store

bp = Blueprint("wc_admin", __name__, url_prefix="/_sandbox")

LAYOUT = """<!doctype html><html><head><meta charset="utf-8"><title>WooCommerce sandbox</title>
<style>body{font-family:sans-serif;margin:2em;color:#1d2327}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .6em;font-size:.9em}form{display:inline}
.flash{background:#fcf0f1;padding:.5em}</style></head><body>
<p><a href="{{ url_for('wc_admin.index') }}">All stores</a></p>
{% if flash %}<p class="flash">{{ flash }}</p>{% endif %}{{ content|safe }}</body></html>"""

INDEX = """<h1>WooCommerce sandbox</h1><ul>{% for s in stores %}
<li><a href="{{ url_for('wc_admin.store_page', slug=s.slug) }}">{{ s.name }}</a>
 — store URL <code>{{ base }}/stores/{{ s.slug }}</code></li>{% endfor %}</ul>
<form method="post" action="{{ url_for('wc_admin.reset') }}"><button>Reset to seed</button></form>"""

STORE = """<h1>{{ store.name }}</h1>
<p>Store URL <code>{{ base }}/stores/{{ store.slug }}</code>; owner login
<code>{{ store.owner.username }}/{{ store.owner.password }}</code>; Shipment Tracking
{{ 'installed' if store.shipment_tracking else 'not installed' }}
<form method="post" action="{{ url_for('wc_admin.toggle_tracking', slug=store.slug) }}">
<button>{{ 'Remove' if store.shipment_tracking else 'Install' }}</button></form></p>
<h2>Place an order</h2>
<form method="post" action="{{ url_for('wc_admin.place_order', slug=store.slug) }}">
<select name="sku">{% for sku in skus %}<option>{{ sku }}</option>{% endfor %}</select>
<input name="quantity" value="1" size="3">
<select name="status"><option>processing</option><option>on-hold</option>
<option>pending</option></select><button>Place order</button></form>
<h2>Products</h2><table><tr><th>ID</th><th>Product</th><th>SKU</th><th>GTIN</th>
<th>Stock</th><th>Status</th><th>Actions</th></tr>
{% for row in products %}<tr><td>{{ row.item.id }}</td>
<td>{{ '&nbsp;&nbsp;↳ '|safe if row.variation }}{{ row.name }}</td>
<td>{{ row.item.sku }}</td><td>{{ row.item.global_unique_id }}</td>
<td>{{ row.item.stock_quantity if row.item.manage_stock else 'not managed' }}</td>
<td>{{ row.item.status }}</td><td>{% if not row.variable %}
<form method="post" action="{{ url_for('wc_admin.product_action', slug=store.slug, post_id=row.item.id, action='stock') }}">
<input name="stock_quantity" size="4" value="{{ row.item.stock_quantity or 0 }}"><button>Set stock</button></form>{% endif %}
<form method="post" action="{{ url_for('wc_admin.product_action', slug=store.slug, post_id=row.item.id, action='sku') }}">
<input name="sku" size="12" value="{{ row.item.sku }}"><button>Save SKU</button></form>
{% if row.item.status == 'trash' %}<form method="post" action="{{ url_for('wc_admin.product_action', slug=store.slug, post_id=row.item.id, action='restore') }}"><button>Restore</button></form>
{% elif not row.variation %}<form method="post" action="{{ url_for('wc_admin.product_action', slug=store.slug, post_id=row.item.id, action='trash') }}"><button>Trash</button></form>{% endif %}
<form method="post" action="{{ url_for('wc_admin.product_action', slug=store.slug, post_id=row.item.id, action='delete') }}"><button>Delete permanently</button></form>
</td></tr>{% endfor %}</table>
<form method="post" action="{{ url_for('wc_admin.add_product', slug=store.slug) }}">
<input name="name" placeholder="name"> <input name="sku" placeholder="SKU" size="12">
<input name="gtin" placeholder="GTIN" size="14"> <input name="stock" placeholder="stock" size="4">
<button>Add simple product</button></form>
<h2>Orders</h2><table><tr><th>#</th><th>Status</th><th>Items</th><th>Total</th>
<th>Tracking</th><th>Actions</th></tr>
{% for o in orders %}<tr><td>{{ o.id }}</td><td>{{ o.status }}</td>
<td>{% for i in o.line_items %}{{ i.quantity }}× {{ i.sku }} {% endfor %}</td>
<td>{{ '%.2f'|format(o.total) }}</td>
<td>{% for t in o.trackings %}{{ t.tracking_provider }} {{ t.tracking_number }} {% endfor %}</td>
<td>{% if o.status not in ('completed','cancelled','refunded','trash') %}
<form method="post" action="{{ url_for('wc_admin.order_action', slug=store.slug, order_id=o.id, action='complete') }}">
<input name="tracking_number" placeholder="tracking # (optional)" size="14">
<select name="tracking_provider"><option>UPS</option><option>USPS</option><option>Fedex</option>
<option>Royal Mail</option></select><button>Complete</button></form>
<form method="post" action="{{ url_for('wc_admin.order_action', slug=store.slug, order_id=o.id, action='cancel') }}"><button>Cancel</button></form>{% endif %}
{% if o.status not in ('refunded','trash') %}
<form method="post" action="{{ url_for('wc_admin.order_action', slug=store.slug, order_id=o.id, action='refund') }}"><button>Refund</button></form>{% endif %}
</td></tr>{% endfor %}</table>
<h2>Webhooks</h2><table><tr><th>ID</th><th>Topic</th><th>Status</th><th>Failures</th>
<th>Delivery URL</th></tr>{% for w in store.webhooks.values() %}<tr><td>{{ w.id }}</td>
<td>{{ w.topic }}</td><td>{{ w.status }}</td><td>{{ w.failure_count }}</td>
<td>{{ w.delivery_url }}</td></tr>{% endfor %}</table>
<h2>Recent deliveries</h2><table><tr><th>Kind</th><th>Webhook</th><th>Topic</th>
<th>Resource</th><th>Response</th></tr>{% for d in deliveries %}<tr><td>{{ d.kind }}</td>
<td>{{ d.webhook_id }}</td><td>{{ d.topic }}</td><td>{{ d.resource_id }}</td>
<td>{{ d.code }}</td></tr>{% endfor %}</table>"""


def sandbox() -> Sandbox:
    """The Sandbox bound to the running app."""
    return current_app.extensions["wc_sandbox"]


def render(template: str, **context) -> str:
    """A page in the admin layout."""
    content = render_template_string(template, base=request.host_url.rstrip("/"), **context)
    return render_template_string(LAYOUT, content=content, flash=request.args.get("flash"))


def get_store(slug: str) -> Store:
    """The store or 404."""
    store = sandbox().store(slug)
    if store is None:
        abort(404)
    return store


@bp.get("/")
def index():
    """List the stores."""
    with sandbox().lock:
        return render(INDEX, stores=list(sandbox().stores.values()))


@bp.post("/reset")
def reset():
    """Reset to the seed."""
    sandbox().reset(seed=True)
    return redirect(url_for("wc_admin.index"))


@bp.get("/stores/<slug>")
def store_page(slug: str):
    """The owner's view of one store."""
    with sandbox().lock:
        store = get_store(slug)
        orders = sorted(store.orders.values(), key=lambda o: o.id, reverse=True)
        skus = [p.sku for p in store.products.values() if p.type == "simple"] + \
            [v.sku for v in store.variations.values()]
        deliveries = [d for d in sandbox().deliveries if d.get("store") == slug][-20:][::-1]
        products = []
        for product in sorted(store.products.values(), key=lambda p: p.id)[:200]:
            products.append({"item": product, "name": product.name, "variation": False,
                             "variable": product.type == "variable"})
            products += [{"item": store.variations[v], "variation": True, "variable": False,
                          "name": actions.product_name(store, store.variations[v])}
                         for v in product.variation_ids if v in store.variations]
        return render(STORE, store=store, orders=orders, skus=skus, deliveries=deliveries,
                      products=products)


@bp.post("/stores/<slug>/tracking")
def toggle_tracking(slug: str):
    """Install or remove Shipment Tracking."""
    with sandbox().lock:
        store = get_store(slug)
        store.shipment_tracking = not store.shipment_tracking
    return redirect(url_for("wc_admin.store_page", slug=slug))


@bp.post("/stores/<slug>/orders")
def place_order(slug: str):
    """Place an order for one SKU."""
    with sandbox().lock:
        store = get_store(slug)
        post_id = next((i.id for i in [*store.products.values(), *store.variations.values()]
                        if i.sku == request.form["sku"]), None)
        if post_id is None:
            abort(400)
        customer = seed.CUSTOMERS[len(store.orders) % len(seed.CUSTOMERS)]
        order = actions.place_order(store, [(post_id, int(request.form.get("quantity", 1)))],
                                    seed.address(customer, with_contact=True),
                                    seed.address(customer, with_contact=False),
                                    status=request.form.get("status", "processing"))
    return redirect(url_for("wc_admin.store_page", slug=slug, flash=f"Order {order.id} placed"))


@bp.post("/stores/<slug>/orders/<int:order_id>/<action>")
def order_action(slug: str, order_id: int, action: str):
    """complete (optionally with tracking), cancel or refund."""
    try:
        with sandbox().lock:
            store = get_store(slug)
            order = store.orders.get(order_id) or abort(404)
            if action == "complete":
                number = request.form.get("tracking_number", "").strip()
                tracking = {"tracking_number": number,
                            "tracking_provider": request.form.get("tracking_provider", "")}
                actions.complete_order(store, order, tracking=tracking if number else None)
            elif action == "cancel":
                actions.cancel_order(store, order)
            elif action == "refund":
                actions.refund_order(store, order)
            else:
                abort(404)
        message = f"Order {order_id}: {action} done"
    except actions.ActionError as error:
        message = f"Order {order_id}: {error}"
    return redirect(url_for("wc_admin.store_page", slug=slug, flash=message))


@bp.post("/stores/<slug>/products")
def add_product(slug: str):
    """Add a simple product (product.created)."""
    form = request.form
    with sandbox().lock:
        store = get_store(slug)
        sku = form.get("sku", "").strip()
        if not form.get("name") or (sku and actions.sku_taken(store, sku)):
            return redirect(url_for("wc_admin.store_page", slug=slug,
                                    flash="A name and a new SKU are needed"))
        stock = form.get("stock", "").strip()
        product = actions.create_product(
            store, name=form["name"], sku=sku, regular_price="10.00",
            stock_quantity=int(stock) if stock.lstrip("-").isdigit() else None,
            global_unique_id=form.get("gtin", "").strip())
    return redirect(url_for("wc_admin.store_page", slug=slug,
                            flash=f"Product {product.id} added"))


@bp.post("/stores/<slug>/products/<int:post_id>/<action>")
def product_action(slug: str, post_id: int, action: str):
    """stock, sku (save: product.updated), trash (product.deleted), restore
    (product.restored), delete (for good: no webhook, as in WooCommerce)."""
    try:
        with sandbox().lock:
            store = get_store(slug)
            item = store.find_product_or_variation(post_id) or abort(404)
            if action == "stock":
                item.manage_stock = True
                item.stock_quantity = int(request.form.get("stock_quantity", "0"))
                actions.touch_product(store, item)
            elif action == "sku":
                sku = request.form.get("sku", "").strip()
                if actions.sku_taken(store, sku, item.id):
                    raise actions.ActionError(f"SKU {sku} is taken")
                item.sku = sku
                actions.touch_product(store, item)
            elif action == "trash" and post_id in store.products:
                actions.trash_product(store, item)
            elif action == "restore" and post_id in store.products:
                actions.restore_product(store, item)
            elif action == "delete":
                if post_id in store.variations:
                    actions.delete_variation(store, item)
                else:
                    actions.delete_product(store, item)
            else:
                abort(404)
        message = f"Product {post_id}: {action} done"
    except (actions.ActionError, ValueError) as error:
        message = f"Product {post_id}: {error}"
    return redirect(url_for("wc_admin.store_page", slug=slug, flash=message))
