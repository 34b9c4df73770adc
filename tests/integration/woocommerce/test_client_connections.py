"""One StoreClient (a job's calls to a store) keeps its connection: the woocommerce library
alone opens a new one per request (TCP and TLS handshakes each time)."""
from app.platforms.woocommerce.client import Keys, StoreClient
from tests.integration.woocommerce.conftest import woo_settings


def _pools(client: StoreClient) -> list:
    return client.session.get_adapter(client.store_url).pools()


def test_a_client_sends_its_requests_over_one_kept_alive_connection(woo_sandbox):
    key = next(k for k in woo_sandbox.store()["keys"] if k["permissions"] == "read_write")
    keys = Keys(key["consumer_key"], key["consumer_secret"])
    woo_sandbox.control("DELETE", "/stores/demo-store/requests")
    with StoreClient(woo_sandbox.store_url(https=True), keys, woo_settings(woo_sandbox)) as client:
        for page in range(1, 6):
            assert client.get("products", params={"per_page": 1, "page": page})
        pools = _pools(client)
        assert len(pools) == 1
        assert (pools[0].num_connections, pools[0].num_requests) == (1, 5)
    assert client._session is None  # closed on leaving the block
    assert sum(woo_sandbox.requests_made().values()) == 5


def test_each_client_has_its_own_connections(woo_sandbox):
    key = next(k for k in woo_sandbox.store()["keys"] if k["permissions"] == "read_write")
    keys = Keys(key["consumer_key"], key["consumer_secret"])
    settings = woo_settings(woo_sandbox)
    with StoreClient(woo_sandbox.store_url(https=True), keys, settings) as first, \
            StoreClient(woo_sandbox.store_url(https=True), keys, settings) as second:
        first.get("products", params={"per_page": 1})
        second.get("products", params={"per_page": 1})
        assert first.session is not second.session
        assert [p.num_connections for p in _pools(first) + _pools(second)] == [1, 1]
