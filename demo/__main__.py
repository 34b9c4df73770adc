"""``python -m demo``: run the demo (``make demo``); ``python -m demo seed``: seed the merchant only."""
from __future__ import annotations

import argparse
import sys


def seed() -> int:
    """Create the demo merchant in DATABASE_URL (idempotent: does nothing if it exists)."""
    from app import create_app
    from app.extensions import db
    from demo.seed import seed_demo_merchant

    with create_app().app_context():
        merchant, created = seed_demo_merchant()
        db.session.commit()
        print(f"{'Seeded' if created else 'Already seeded'}: {merchant.name} "
              f"(merchant {merchant.id})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Dispatch on the optional command (default: run the whole demo)."""
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("command", nargs="?", choices=("run", "seed"), default="run",
                        help="run: sandboxes, seeded database, app and worker (make demo); "
                             "seed: only the demo merchant, in DATABASE_URL")
    args = parser.parse_args(argv)
    if args.command == "seed":
        return seed()
    from demo.run import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
