"""A local certificate authority so the sandboxes can serve HTTPS on loopback.

Shopify is HTTPS-only and the real ShopifyAPI library hard-codes ``https://`` for the
OAuth token request; WooCommerce accepts Basic auth only over HTTPS. The sandboxes
therefore serve TLS with a leaf certificate (127.0.0.1, ::1, localhost, and any extra
names a test asks for) signed by a CA made here; clients trust that CA through
``ca_bundle`` (system roots + our CA).
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class LocalTLS:
    """Paths of the files :func:`ensure_local_tls` writes."""

    ca_cert: Path
    cert: Path
    key: Path
    ca_bundle: Path

    def server_context(self) -> ssl.SSLContext:
        """An SSLContext for a loopback HTTPS server."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _still_valid(path: Path, dns_names: tuple[str, ...]) -> bool:
    if not path.exists():
        return False
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.DNSName)
    return cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=1) \
        and set(dns_names) <= set(names)


def ensure_local_tls(directory: str | Path, *, dns_names: tuple[str, ...] = ()) -> LocalTLS:
    """Create (or reuse, while valid) the CA, the loopback leaf cert and the CA bundle.

    ``dns_names``: more names the leaf is valid for (e.g. ``*.attacker.test``, a test's
    stand-in for a store's public domain served on loopback).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    tls = LocalTLS(d / "ca.pem", d / "cert.pem", d / "key.pem", d / "ca-bundle.pem")
    if all(p.exists() for p in (tls.key, tls.ca_bundle)) and _still_valid(tls.cert, dns_names):
        return tls

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Stockroom sandbox local CA"))
        .issuer_name(_name("Stockroom sandbox local CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            *(x509.DNSName(name) for name in dns_names),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    tls.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    tls.key.chmod(0o600)
    tls.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    tls.cert.write_bytes(cert.public_bytes(pem))
    try:
        import certifi  # requests' own bundle: keep real roots trusted alongside ours
        roots = Path(certifi.where()).read_bytes()
    except ImportError:  # pragma: no cover - certifi comes with requests
        roots = b""
    tls.ca_bundle.write_bytes(roots + b"\n" + ca_cert.public_bytes(pem))
    return tls
