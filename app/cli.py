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
