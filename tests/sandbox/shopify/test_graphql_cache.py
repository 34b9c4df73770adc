"""Remembered documents: the same query text answers the same, valid or not."""


def test_repeated_invalid_query_reports_the_same_errors(sandbox, token):
    first = sandbox.gql(token, "query Bad { shop { noSuchField } }")
    second = sandbox.gql(token, "query Bad { shop { noSuchField } }")
    assert first["errors"] and first == second


def test_repeated_query_with_other_variables_executes_again(sandbox, token):
    query = "query One($id: ID!) { order(id: $id) { id } }"
    existing = sandbox.gql(token, "query Some { orders(first: 1) { nodes { id } } }")
    order_id = existing["data"]["orders"]["nodes"][0]["id"]
    found = sandbox.gql(token, query, {"id": order_id})
    missing = sandbox.gql(token, query, {"id": "gid://shopify/Order/999998"})
    assert found["data"]["order"]["id"] == order_id and missing["data"]["order"] is None
