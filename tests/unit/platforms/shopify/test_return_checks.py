"""The returns/* payload check against Shopify's published examples and forged bodies."""
import pytest

from app.sync.errors import Rejected
from tests.unit.platforms.shopify.test_payload_checks import example, run_check


@pytest.mark.parametrize("topic", ["returns/request", "returns/approve", "returns/decline",
                                   "returns/cancel", "returns/close", "returns/reopen",
                                   "returns/update"])
def test_check_return_accepts_shopifys_example_payload(app, topic):
    run_check(topic, example(topic))


def test_check_return_refuses_the_empty_process_example_it_could_not_apply(app):
    # Shopify's published returns/process example is {}: nothing names the return.
    assert example("returns/process") == {}
    with pytest.raises(Rejected, match="admin_graphql_api_id"):
        run_check("returns/process", {})


@pytest.mark.parametrize("body, reason", [
    ({"id": 1, "admin_graphql_api_id": "gid://shopify/Return/2", "order_id": 3},
     "different Returns"),
    ({"admin_graphql_api_id": "gid://shopify/Order/2"}, "not gid://shopify/Return"),
    ({"admin_graphql_api_id": "gid://shopify/Return/2", "order": "7"}, "not an object"),
    ({"admin_graphql_api_id": "gid://shopify/Return/2",
      "order": {"admin_graphql_api_id": "gid://shopify/Refund/9"}}, "gid://shopify/Order"),
    ({"admin_graphql_api_id": "gid://shopify/Return/2", "order_id": -4}, "not a Shopify id"),
])
def test_check_return_refuses_forged_ids(app, body, reason):
    with pytest.raises(Rejected, match=reason):
        run_check("returns/close", body)
