"""`make demo`'s program really starts: migrates, seeds, serves the stock overview."""
import os
import socket
import subprocess
import sys
import time

import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import InventoryItem, Merchant, StockLocation
from app.seed import seed_demo_merchant


def test_seed_demo_merchant_is_idempotent(app):
    merchant, created = seed_demo_merchant()
    db.session.commit()
    again, created_again = seed_demo_merchant()
    assert created and not created_again and again.id == merchant.id
    assert db.session.scalar(select(func.count()).select_from(StockLocation)) == 4
    assert db.session.scalar(select(func.count()).select_from(InventoryItem)) == 60
    assert db.session.scalar(select(func.count()).select_from(Merchant)) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_program_serves_seeded_overview(tmp_path, repo_root):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3"}
    proc = subprocess.Popen([sys.executable, "-m", "app.demo"], cwd=repo_root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "demo did not start"
                time.sleep(0.2)
        assert page.status_code == 200
        assert "Juniper &amp; Co. (demo)" in page.text
        assert "JC-01-01" in page.text and "Main warehouse" in page.text
        assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json() == {
            "status": "ready"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
