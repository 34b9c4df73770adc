"""The demo and seed code, beside the product: `make demo`, its data, bulk seeding for benches.

Nothing under app/ imports this package (tests/unit/test_app_imports.py checks): a
production deployment runs app/ alone. This package uses app/ and sandbox/ freely.

- ``python -m demo`` (``make demo``): demo/run.py starts both sandboxes, seeds, runs the app
  and the worker.
- ``python -m demo seed``: only the demo merchant (its stock locations) in DATABASE_URL; its
  items and stock come from the demo shop's catalog through onboarding (demo/data.py).
- demo/data.py: the demo's catalog and orders on the sandboxes, imported through the real
  integrations and onboarded with the same choices a merchant makes (the Shopify shop's
  catalog seeds the items, its counts are the opening stock; the WooCommerce store keeps
  Stockroom's); demo/woocommerce.py: sandbox stores connected with a REST key (no browser).
- demo/seed_bulk.py: many orders written as rows (benchmarks, a large demo).
"""
