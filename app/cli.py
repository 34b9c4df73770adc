"""Flask CLI commands: seeding the demo merchant."""
from __future__ import annotations

import click
from flask import Flask

from app.extensions import db


def register_cli(app: Flask) -> None:
    """Attach Stockroom's commands to ``flask``."""

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create the demo merchant (idempotent: does nothing if it exists)."""
        from app.seed import seed_demo_merchant

        merchant, created = seed_demo_merchant()
        db.session.commit()
        click.echo(f"{'Seeded' if created else 'Already seeded'}: {merchant.name} "
                   f"(merchant {merchant.id})")

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run one pass over the queues, then exit.")
    @click.option("--batch", default=10, show_default=True, help="Jobs claimed per pass.")
    @click.option("--poll", default=1.0, show_default=True, help="Seconds between empty polls.")
    def worker_command(once: bool, batch: int, poll: float):
        """Run the sync worker (outbox pushes, webhook inbox) until SIGTERM."""
        import logging

        from app.sync.worker import Worker, install_signal_handlers

        logging.basicConfig(level=logging.INFO, format="%(message)s")
        worker = Worker(app, batch=batch, poll_seconds=poll)
        install_signal_handlers(worker)
        click.echo(f"worker {worker.worker_id} started", err=True)
        ran = worker.run(once=once)
        click.echo(f"worker {worker.worker_id} stopped after {ran} jobs", err=True)
