"""Store URL normalization and the SSRF guard (real DNS resolution of literal and local names)."""
import pytest

from app.platforms.woocommerce.settings import WooSettings, load_settings, origin_of
from app.platforms.woocommerce.urls import (UnsafeStoreURL, checked_addresses,
                                           normalize_store_url)

PRODUCTION = WooSettings()
SANDBOX = WooSettings(sandbox_origins=frozenset({origin_of("http://127.0.0.1:5200")}))


@pytest.mark.parametrize("raw, expected", [
    ("https://Shop.Example.com/", "https://shop.example.com"),
    ("shop.example.com", "https://shop.example.com"),
    ("https://shop.example.com:443/store/", "https://shop.example.com/store"),
    ("http://127.0.0.1:5200/stores/demo-store", "http://127.0.0.1:5200/stores/demo-store"),
])
def test_normalize_store_url_canonical_forms(raw, expected):
    assert normalize_store_url(raw) == expected


@pytest.mark.parametrize("raw", ["", "file:///etc/passwd", "ftp://shop.example.com",
                                 "https://a:b@shop.example.com", "https://shop.example.com/?x=1",
                                 "https://shop.example.com:99999", "gopher://127.0.0.1:11211/"])
def test_normalize_store_url_refuses_non_web_urls(raw):
    with pytest.raises(UnsafeStoreURL):
        normalize_store_url(raw)


@pytest.mark.parametrize("url", [
    "https://127.0.0.1", "https://127.1.2.3:8443", "https://10.1.2.3", "https://172.16.0.1",
    "https://192.168.1.1", "https://169.254.169.254", "https://100.64.0.1", "https://0.0.0.0",
    "https://[::1]", "https://[fe80::1]", "https://[fd00::1]", "https://[::ffff:10.0.0.1]",
    "https://[2002:7f00:1::]", "https://localhost", "https://2130706433", "https://0x7f.1",
    "https://224.0.0.1"])
def test_checked_addresses_refuses_every_non_public_address(url):
    with pytest.raises(UnsafeStoreURL, match="private or local"):
        checked_addresses(url, PRODUCTION)


def test_checked_addresses_https_only_outside_sandbox_origins():
    with pytest.raises(UnsafeStoreURL, match="https"):
        checked_addresses("http://93.184.215.14", PRODUCTION)
    assert checked_addresses("https://93.184.215.14/shop", PRODUCTION) == ["93.184.215.14"]


def test_sandbox_origins_allow_exactly_those_origins():
    assert checked_addresses("http://127.0.0.1:5200/stores/demo-store", SANDBOX) == ["127.0.0.1"]
    for other in ("http://127.0.0.1:5201/stores/x", "https://127.0.0.1:5200/stores/x",
                  "http://localhost:5200/stores/x"):
        with pytest.raises(UnsafeStoreURL):
            checked_addresses(other, SANDBOX)


def test_load_settings_reads_the_environment():
    settings = load_settings({"WOOCOMMERCE_SANDBOX_ORIGINS":
                              "http://127.0.0.1:5200, https://127.0.0.1:5243",
                              "WOOCOMMERCE_APP_URL": "https://app.example/",
                              "WOOCOMMERCE_RECONCILE_SECONDS": "60"})
    assert settings.sandbox_origins == {"http://127.0.0.1:5200", "https://127.0.0.1:5243"}
    assert settings.app_url == "https://app.example" and settings.reconcile_seconds == 60
    assert load_settings({}).sandbox_origins == frozenset()
