"""Processes the benches run: gunicorn (the production server), the sync worker, the sandbox."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.common import ROOT, SECRET, free_port, peak_rss_kib

BIN = Path(sys.executable).parent
#: The production server configuration every gunicorn bench uses (README: `gunicorn wsgi:app`).
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))
GUNICORN_ARGS = ("--workers", str(GUNICORN_WORKERS), "--worker-class", "sync",
                 "--backlog", "2048", "--log-level", "warning")


def app_env(url: str, **extra: str) -> dict[str, str]:
    """Environment of a Stockroom process configured like production."""
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "SHOPIFY_API_SECRET": SECRET,
                "STOCKROOM_SECURE_COOKIES": "0", "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env



def terminate(proc: subprocess.Popen, *, timeout: float) -> None:
    """SIGTERM (let it finish in-flight work), then SIGKILL after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

class Gunicorn:
    """``gunicorn <module>`` on a free loopback port, with the production arguments."""

    def __init__(self, module: str, env: dict[str, str], *, health: str = "/healthz"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), *GUNICORN_ARGS, "--bind", f"127.0.0.1:{self.port}", module],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {module} exited: {self.proc.stderr.read()[-2000:]}")
            try:
                if requests.get(self.url + health, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {module} did not answer {health}")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the arbiter)."""
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def peak_worker_rss_kib(self) -> int | None:
        """The largest VmHWM among the live workers."""
        values = [v for v in (peak_rss_kib(p) for p in self.worker_pids()) if v]
        return max(values) if values else None

    def stop(self) -> None:
        """TERM the arbiter (workers finish their requests) and wait."""
        terminate(self.proc, timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class SyncWorker:
    """``flask worker`` (the production sync worker) as its own process."""

    def __init__(self, env: dict[str, str], *, batch: int = 10, poll: float = 0.05,
                 threads: int = 1):
        self.proc = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "worker", "--batch", str(batch),
             "--poll", str(poll), "--threads", str(threads)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def peak_rss_kib(self) -> int | None:
        """VmHWM of the worker process."""
        return peak_rss_kib(self.proc.pid)

    def stop(self) -> None:
        """SIGTERM: finish the job in hand, release the rest, exit."""
        terminate(self.proc, timeout=30)


class ShopifySandbox:
    """``python -m sandbox.shopify`` on free ports; its HTTP control API and HTTPS API."""

    def __init__(self, tls_dir: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox.shopify", "--http-port", "0", "--https-port", "0",
             "--tls-dir", str(tls_dir), "--webhook-time-scale", "0.001"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"HTTP (\S+)\s+HTTPS (\S+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"sandbox did not start: {line!r}")
        self.http_url, self.https_url = match.group(1), match.group(2)
        self.ca_bundle = str(Path(tls_dir) / "ca-bundle.pem")

    def control(self, method: str, path: str, json=None) -> dict:
        """Call the sandbox's control API; raise on an error answer."""
        resp = requests.request(method, f"{self.http_url}/_sandbox/{path}", json=json, timeout=60)
        resp.raise_for_status()
        return resp.json()

    def stop(self) -> None:
        """Stop the sandbox process."""
        terminate(self.proc, timeout=15)


class WooSandbox:
    """``python -m sandbox.woocommerce`` on free ports, empty; its control API."""

    def __init__(self, tls_dir: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox.woocommerce", "--http-port", "0", "--https-port",
             "0", "--tls-dir", str(tls_dir), "--webhook-delay", "0", "--no-seed"],
            cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"sandbox: (\S+) and (\S+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"WooCommerce sandbox did not start: {line!r}")
        self.http_url, self.https_url = match.group(1), match.group(2)
        self.ca_bundle = str(Path(tls_dir) / "ca-bundle.pem")

    def control(self, method: str, path: str, json=None) -> dict | list:
        """Call the sandbox's control API; raise on an error answer."""
        resp = requests.request(method, f"{self.http_url}/_sandbox/api/{path}", json=json,
                                timeout=120)
        resp.raise_for_status()
        return resp.json()

    def stop(self) -> None:
        """Stop the sandbox process."""
        terminate(self.proc, timeout=15)
