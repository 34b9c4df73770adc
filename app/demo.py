"""`make demo`: migrate and seed the demo SQLite database, then serve the app until Ctrl-C."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from flask_migrate import upgrade
from werkzeug.serving import run_simple

ROOT = Path(__file__).resolve().parent.parent
HOST, PORT = os.environ.get("STOCKROOM_HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))


def main() -> int:
    """Prepare the demo database and run the app in the foreground."""
    from app import create_app
    from app.seed import seed_demo_merchant
    from app.extensions import db

    db_path = ROOT / "instance" / "demo.sqlite3"
    db_path.parent.mkdir(exist_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL",
                                                                f"sqlite:///{db_path}"),
                      "DEMO": True})
    with app.app_context():
        upgrade()
        merchant, _ = seed_demo_merchant()
        db.session.commit()
        print(f"Demo merchant: {merchant.name}")
    print(f"\n  Stockroom:  http://{HOST}:{PORT}/\n\nCtrl-C stops it.\n", flush=True)
    try:
        run_simple(HOST, PORT, app, threaded=True)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
