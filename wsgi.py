"""WSGI entry point: `STOCKROOM_ENV=production gunicorn wsgi:app` (README, "Production mode")."""
import gc

from app import create_app

app = create_app()
# What start-up built (models, templates, the app) lives as long as the worker. Frozen,
# it stays out of the collector's full passes, which otherwise walk it all: a ~90 ms
# pause in the middle of a request now and then (docs/performance.md).
gc.freeze()
