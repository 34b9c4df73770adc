"""Flask CLI commands: the worker, Shopify maintenance (demo seeding: ``python -m demo seed``)."""
from __future__ import annotations

import click
from flask import Flask

from app.extensions import db
from app.sync.topics import Topic


def register_cli(app: Flask) -> None:
    """Attach Stockroom's commands to ``flask``."""

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run one pass over the queues, then exit.")
    @click.option("--batch", default=10, show_default=True, help="Jobs claimed per pass.")
    @click.option("--poll", default=1.0, show_default=True, help="Seconds between empty polls.")
    @click.option("--threads", default=1, show_default=True,
                  help="Jobs run side by side in this process (each thread claims one job "
                       "at a time): one store's long push no longer waits for another's.")
    @click.option("--schedule/--no-schedule", default=True, show_default=True,
                  help="Also queue periodic jobs (token refresh, reconciliation) when due.")
    def worker_command(once: bool, batch: int, poll: float, threads: int, schedule: bool):
        """Run the sync worker (outbox pushes, webhook inbox) until SIGTERM."""
        import gc
        import logging

        from app.sync.schedule import ScheduledWorker
        from app.sync.worker import Worker, install_signal_handlers

        logging.basicConfig(level=logging.INFO, format="%(message)s")
        worker = (ScheduledWorker if schedule else Worker)(app, batch=batch, poll_seconds=poll,
                                                           threads=threads)
        install_signal_handlers(worker)
        gc.freeze()  # start-up objects out of the collector's full passes, as in wsgi.py
        click.echo(f"worker {worker.worker_id} started", err=True)
        ran = worker.run(once=once)
        click.echo(f"worker {worker.worker_id} stopped after {ran} jobs", err=True)

    @app.cli.group("shopify")
    def shopify_group():
        """Shopify maintenance: queue a reconciliation or a token refresh now."""

    def _queue(topic: str, shop: str | None) -> None:
        from sqlalchemy import select

        from app.models import Channel, ChannelStatus, Platform
        from app.sync.schedule import enqueue_once

        query = select(Channel.id, Channel.domain).where(
            Channel.platform == Platform.SHOPIFY, Channel.status == ChannelStatus.ACTIVE)
        if shop:
            query = query.where(Channel.domain == shop)
        channels = db.session.execute(query.order_by(Channel.id)).all()
        if shop and not channels:
            raise click.ClickException(f"{shop} is not an installed shop")
        for channel_id, domain in channels:
            queued = enqueue_once(channel_id, topic)
            db.session.commit()
            click.echo(f"{domain}: {'queued' if queued else 'already queued'} {topic}")

    @shopify_group.command("reconcile")
    @click.option("--shop", help="One shop (its myshopify.com domain); default: all.")
    def shopify_reconcile_command(shop: str | None):
        """Queue a reconciliation (orders and fulfillments changed since the last sync)."""
        _queue(Topic.SHOPIFY_RECONCILE, shop)

    @shopify_group.command("refresh-tokens")
    @click.option("--shop", help="One shop (its myshopify.com domain); default: all.")
    def shopify_refresh_command(shop: str | None):
        """Queue a token refresh (it rotates only tokens within the refresh margin)."""
        _queue(Topic.SHOPIFY_TOKEN_REFRESH, shop)
