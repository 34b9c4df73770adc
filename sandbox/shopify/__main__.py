"""``python -m sandbox.shopify``: serve the Shopify sandbox on HTTP (5100) and HTTPS (5143)."""
from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from sandbox.server import start_in_thread
from sandbox.tls import ensure_local_tls

from . import SandboxConfig, create_app
from .config import REPO_ROOT


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line flags (ports, TLS dir, seed, app toml, webhook time scale)."""
    p = argparse.ArgumentParser(prog="python -m sandbox.shopify", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--http-port", type=int, default=int(os.environ.get("SHOPIFY_SANDBOX_HTTP_PORT", 5100)))
    p.add_argument("--https-port", type=int, default=int(os.environ.get("SHOPIFY_SANDBOX_HTTPS_PORT", 5143)))
    p.add_argument("--tls-dir", default=str(REPO_ROOT / "instance" / "sandbox-tls"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--app-toml", default=str(REPO_ROOT / "shopify.app.toml"))
    p.add_argument("--webhook-time-scale", type=float, default=1.0,
                   help="multiply Shopify's 4-hour retry schedule (e.g. 0.01)")
    return p.parse_args(argv)


def main(argv=None) -> None:
    """Start both listeners and wait for Ctrl-C / SIGTERM."""
    args = parse_args(argv)
    tls = ensure_local_tls(args.tls_dir)
    config = SandboxConfig(seed=args.seed, app_toml=Path(args.app_toml),
                           public_url=f"http://{args.host}:{args.http_port}",
                           webhook_time_scale=args.webhook_time_scale,
                           webhook_verify=str(tls.ca_bundle))
    app = create_app(config)
    http = start_in_thread(app, host=args.host, port=args.http_port)
    config.public_url = http.url
    https = start_in_thread(app, host=args.host, port=args.https_port,
                            ssl_context=tls.server_context())
    print(f"Shopify sandbox: HTTP {http.url}  HTTPS {https.url}", flush=True)
    print(f"  shop URL template: {https.url}/shops/{{shop}}   CA bundle: {tls.ca_bundle}", flush=True)
    print(f"  merchant admin:    {http.url}/_sandbox/admin/", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        https.stop()
        http.stop()


if __name__ == "__main__":
    main()
