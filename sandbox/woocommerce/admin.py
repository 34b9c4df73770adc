"""The small HTML admin under /_sandbox/: the store owner's screens (orders, actions, webhooks)."""
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
        return render(STORE, store=store, orders=orders, skus=skus, deliveries=deliveries)


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
