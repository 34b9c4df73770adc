"""The demo and seed code, beside the product: `make demo`, its data, bulk seeding for benches.

Nothing under app/ imports this package (tests/unit/test_app_imports.py checks): a
production deployment runs app/ alone. This package uses app/ and sandbox/ freely.

- ``python -m demo`` (``make demo``): demo/run.py starts both sandboxes, seeds, runs the app
  and the worker.
- ``python -m demo seed``: only the demo merchant (locations, SKUs, stock) in DATABASE_URL.
- demo/data.py: the demo's catalog and orders on the sandboxes, imported through the real
  integrations; demo/woocommerce.py: sandbox stores connected with a REST key (no browser).
- demo/seed_bulk.py: many orders written as rows (benchmarks, a large demo).
"""
