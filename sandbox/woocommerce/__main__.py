"""Command line: serve the WooCommerce sandbox on an HTTP and an HTTPS port (same app, same state).

    python -m sandbox.woocommerce [--host 127.0.0.1] [--http-port 5200] [--https-port 5243]
                                  [--tls-dir instance/sandbox-tls] [--webhook-delay 2]
                                  [--allow-insecure-http] [--no-seed]
"""
from __future__ import annotations

import argparse
import threading

from sandbox.server import start_in_thread
from sandbox.tls import ensure_local_tls
from sandbox.woocommerce import create_app


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """CLI options (port 0 = any free port)."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.woocommerce",
                                     description="WooCommerce 9.x store emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=5200)
    parser.add_argument("--https-port", type=int, default=5243)
    parser.add_argument("--tls-dir", default="instance/sandbox-tls")
    parser.add_argument("--webhook-delay", type=float, default=None,
                        help="seconds between a change and its webhook delivery (default 2)")
    parser.add_argument("--allow-insecure-http", action="store_true", default=None,
                        help="development only: http callback_url and Basic auth over http "
                             "(also WC_SANDBOX_ALLOW_INSECURE_HTTP=1)")
    parser.add_argument("--no-seed", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start both listeners and block until interrupted."""
    args = parse_args(argv)
    tls = ensure_local_tls(args.tls_dir)
    config = {"seed": not args.no_seed, "outbound_verify": str(tls.ca_bundle)}
    if args.webhook_delay is not None:
        config["webhook_delay_seconds"] = args.webhook_delay
    if args.allow_insecure_http:
        config["allow_insecure_http"] = True
    app = create_app(config)
    http = start_in_thread(app, host=args.host, port=args.http_port)
    https = start_in_thread(app, host=args.host, port=args.https_port,
                            ssl_context=tls.server_context())
    sandbox = app.extensions["wc_sandbox"]
    print(f"WooCommerce sandbox: {http.url} and {https.url} (trust {tls.ca_bundle})")
    print(f"  admin: {http.url}/_sandbox/   controls: {http.url}/_sandbox/api/stores")
    print(f"  allow_insecure_http={sandbox.config['allow_insecure_http']}")
    with sandbox.lock:
        for store in sandbox.stores.values():
            print(f"  {store.slug}: {https.url}/stores/{store.slug}  |  "
                  f"{http.url}/stores/{store.slug}")
            for key in store.keys.values():
                print(f"    {key.permissions:<10} {key.consumer_key} {key.consumer_secret}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        http.stop()
        https.stop()
        sandbox.dispatcher.stop()


if __name__ == "__main__":
    main()
