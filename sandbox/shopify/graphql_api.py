"""The Admin GraphQL endpoint: authentication, validation against the real schema, input limits,
cost and throttling, execution through the sandbox resolvers, and Shopify's error shapes."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request
from graphql import GraphQLError, OperationDefinitionNode, execute, parse, validate
from graphql.language import ListValueNode, ObjectValueNode, Visitor, visit

from . import resolvers
from .schema import expand_scopes, load_schema
from .state import AccessToken, App, Shop, Store
from .throttle import MAX_SINGLE_QUERY_COST, CostCalculator

bp = Blueprint("shopify_admin_api", __name__)

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
MAX_INPUT_ITEMS = 250


@dataclass
class Ctx:
    """What resolvers see: the world, the shop, the caller and its scopes."""

    store: Store
    shop: Shop
    app: App
    token: AccessToken
    scopes: set[str]
    admin_schema: object
    config: object

    def can(self, *any_of: str) -> bool:
        """True when the token holds one of ``any_of`` (write implies read)."""
        return bool(self.scopes & set(any_of))


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON response with Shopify's content type."""
    resp = Response(json.dumps(body), status=status, mimetype="application/json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


@bp.post("/shops/<shop_domain>/admin/api/<version>/graphql.json")
def graphql_endpoint(shop_domain: str, version: str):
    """POST a GraphQL document as the app, with X-Shopify-Access-Token."""
    sandbox = current_app.extensions["shopify_sandbox"]
    store: Store = sandbox.store
    from .faults import DelayAfter  # faults imports this module

    peek = request.get_json(silent=True)
    operation = peek.get("operationName") if isinstance(peek, dict) else None
    fault = sandbox.faults.take_api_fault(shop_domain, operation)
    if isinstance(fault, DelayAfter):
        response = _answer(sandbox, store, shop_domain, version)
        time.sleep(fault.seconds)  # outside the store lock: webhooks and other calls go on
        return response
    if fault is not None:
        return fault
    return _answer(sandbox, store, shop_domain, version)


def _answer(sandbox, store: Store, shop_domain: str, version: str):
    with store.lock:
        shop = store.shop(shop_domain)
        if shop is None:
            return json_response({"errors": "Not Found"}, 404)
        if version != sandbox.config.api_version:
            return json_response({"errors": "Not Found"}, 404)
        token = sandbox.auth.authenticate(shop_domain,
                                          request.headers.get("X-Shopify-Access-Token"))
        if token is None:
            return json_response({"errors": INVALID_TOKEN}, 401)
        app = store.apps[token.client_id]
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return json_response({"errors": {"query": "Required parameter missing or invalid"}},
                                 400)
        ctx = Ctx(store, shop, app, token, expand_scopes(token.scopes),
                  load_schema(str(sandbox.config.schema_dir)), sandbox.config)
        return json_response(run(ctx, sandbox, body),
                             headers={"X-Shopify-API-Version": version,
                                      "X-Request-Id": str(uuid.uuid4())})


def run(ctx: Ctx, sandbox, body: dict) -> dict:
    """Parse, validate, limit, cost, throttle and execute one request body."""
    schema = ctx.admin_schema.schema
    try:
        document, errors = _parsed(schema, body["query"])
    except GraphQLError as err:
        return {"errors": [_error_dict(err, code=None)]}
    if errors:
        return {"errors": [_validation_error(e, document) for e in errors]}
    operation = _operation(document, body.get("operationName"))
    if operation is None:
        return {"errors": [{"message": "An operation name is required",
                            "extensions": {"code": "OPERATION_NAME_REQUIRED"}}]}
    variables = body.get("variables") or {}
    limit_error = _input_limit_error(operation, variables)
    if limit_error:
        return {"errors": [limit_error]}
    calc = CostCalculator(schema, document, operation, variables)
    requested = calc.requested()
    bucket = sandbox.buckets.get(ctx.app.client_id, ctx.shop.domain, ctx.shop.plan,
                                 time.monotonic())
    if requested > MAX_SINGLE_QUERY_COST:
        return _max_cost_exceeded(requested, bucket)
    if not sandbox.buckets.take(bucket, requested):
        sandbox.buckets.count(ctx.shop.domain, throttled=True)
        return {"errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": _cost(requested, None, bucket)}}
    sandbox.buckets.count(ctx.shop.domain, throttled=False)
    result = execute(schema, document, root_value=None, context_value=ctx,
                     variable_values=variables, operation_name=body.get("operationName"),
                     field_resolver=resolvers.resolve_field,
                     type_resolver=resolvers.resolve_type)
    actual = calc.actual(result.data)
    sandbox.buckets.refund(bucket, requested - actual)
    out: dict = {}
    if result.errors:
        out["errors"] = [_execution_error(e) for e in result.errors]
    out["data"] = result.data
    out["extensions"] = {"cost": _cost(requested, actual, bucket)}
    return out


_PARSED: dict[tuple[int, str], tuple] = {}


def _parsed(schema, query: str) -> tuple:
    """(document, validation errors) of ``query``, remembered per schema and query text.

    An app sends the same few documents again and again, and parsing plus validating
    one against the Admin schema costs more than executing it: without this a busy
    sandbox measures itself instead of the app. Parse errors are not remembered.
    """
    key = (id(schema), query)
    hit = _PARSED.get(key)
    if hit is None:
        document = parse(query)
        hit = (document, validate(schema, document))
        if len(_PARSED) >= 512:
            _PARSED.clear()
        _PARSED[key] = hit
    return hit


def _operation(document, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in ops if o.name and o.name.value == name), None)
    return ops[0] if len(ops) == 1 else None


def _cost(requested: int, actual: int | None, bucket) -> dict:
    return {"requestedQueryCost": requested, "actualQueryCost": actual,
            "throttleStatus": bucket.status()}


def _max_cost_exceeded(requested: int, bucket) -> dict:
    message = (f"Query cost is {requested}, which exceeds the single query max cost limit "
               f"({MAX_SINGLE_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/"
               "rate-limits for more information on how the\ncost of a query is calculated.\n\n"
               "To query larger amounts of data with fewer limits, bulk operations should be "
               "used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-"
               "admin-api for usage details.\n")
    return {"errors": [{"message": message, "extensions": {
        "code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_SINGLE_QUERY_COST}}],
        "extensions": {"cost": _cost(requested, None, bucket)}}


# --- input limits ---------------------------------------------------------------------------

def _input_limit_error(operation, variables: dict) -> dict | None:
    """Shopify rejects any input array longer than 250 items (literal or in variables)."""
    found = _oversized_value(variables, [])
    if found is None:
        found = _oversized_literal(operation)
    if found is None:
        return None
    size, path = found
    return {"message": f"The input array size of {size} is greater than the maximum allowed "
                       f"of {MAX_INPUT_ITEMS}.",
            "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"}, "path": path}


def _oversized_value(value, path):
    if isinstance(value, list):
        if len(value) > MAX_INPUT_ITEMS:
            return len(value), path
        for i, v in enumerate(value):
            hit = _oversized_value(v, path + [i])
            if hit:
                return hit
    elif isinstance(value, dict):
        for k, v in value.items():
            hit = _oversized_value(v, path + [k])
            if hit:
                return hit
    return None


def _oversized_literal(operation):
    """The size of the first literal list longer than the limit (path: the argument name)."""
    found = []

    class Finder(Visitor):
        def enter_argument(self, node, *_):
            for value in _lists_in(node.value):
                if len(value.values) > MAX_INPUT_ITEMS and not found:
                    found.append((len(value.values), [node.name.value]))

    visit(operation, Finder())
    return found[0] if found else None


def _lists_in(value):
    if isinstance(value, ListValueNode):
        yield value
        for v in value.values:
            yield from _lists_in(v)
    elif isinstance(value, ObjectValueNode):
        for f in value.fields:
            yield from _lists_in(f.value)


# --- error shapes ---------------------------------------------------------------------------

def _locations(err: GraphQLError):
    return [{"line": loc.line, "column": loc.column} for loc in (err.locations or [])]


def _error_dict(err: GraphQLError, code: str | None, **ext) -> dict:
    out = {"message": err.message}
    if err.locations:
        out["locations"] = _locations(err)
    if err.path:
        out["path"] = list(err.path)
    extensions = dict(err.extensions or {})
    if code:
        extensions["code"] = code
    extensions.update(ext)
    if extensions:
        out["extensions"] = extensions
    return out


VALIDATION_CODES = [  # graphql-core message prefix -> Shopify (graphql-ruby) code
    ("Cannot query field", "undefinedField"),
    ("Unknown argument", "argumentNotAccepted"),
    ("Unknown type", "undefinedType"),
    ("Unknown directive", "undefinedDirective"),
    ("Variable '$", "variableMismatch"),
    ("Unknown fragment", "useAndDefineFragment"),
    ("Fragment ", "useAndDefineFragment"),
    ("Field '", "missingRequiredArguments"),
    ("Argument '", "argumentLiteralsIncompatible"),
    ("Expected value of type", "argumentLiteralsIncompatible"),
    ("Unknown operation", "undefinedOperation"),
]


def _validation_error(err: GraphQLError, document) -> dict:
    """A validation failure in Shopify's graphql-ruby style: message, locations, path from the
    operation (``["query", "shop", "nme"]``), extensions.code."""
    message, extra = err.message, {}
    code = next((c for prefix, c in VALIDATION_CODES if message.startswith(prefix)),
                "validationFailed")
    parts = message.split("'")
    if code == "undefinedField" and len(parts) >= 4:
        # graphql-core: "Cannot query field 'x' on type 'Y'."
        message = f"Field '{parts[1]}' doesn't exist on type '{parts[3]}'"
        extra = {"typeName": parts[3], "fieldName": parts[1]}
    elif code == "useAndDefineFragment" and len(parts) >= 3:
        # graphql-core: "Unknown fragment 'X'." / "Fragment 'X' is never used."
        done = "defined, but not used" if "never used" in message else "used, but not defined"
        message = f"Fragment {parts[1]} was {done}"
        extra = {"fragmentName": parts[1]}
    elif code == "missingRequiredArguments" and "is required" in message and len(parts) >= 4:
        # graphql-core: "Field 'f' argument 'a' of type 'T' is required, but it was not provided."
        message = f"Field '{parts[1]}' is missing required arguments: {parts[3]}"
        extra = {"className": "Field", "name": parts[1], "arguments": parts[3]}
    path = _document_path(document, err.nodes[0]) if err.nodes else None
    out = _error_dict(GraphQLError(message, err.nodes), code, **extra)
    if path:
        out["path"] = path
    return out


def _document_path(document, target) -> list[str] | None:
    """graphql-ruby's validation path: operation label then the enclosing field names."""
    found: list[list[str]] = []
    stack: list[str] = []

    class PathFinder(Visitor):
        def enter_operation_definition(self, node, *_):
            label = node.operation.value + (f" {node.name.value}" if node.name else "")
            stack.append(label)

        def leave_operation_definition(self, node, *_):
            stack.pop()

        def enter_field(self, node, *_):
            stack.append((node.alias or node.name).value)
            if node is target:
                found.append(list(stack))

        def leave_field(self, node, *_):
            stack.pop()

        def enter(self, node, *_):
            if node is target and not found and stack:
                found.append(list(stack))

    visit(document, PathFinder())
    return found[0] if found else None


def _execution_error(err: GraphQLError) -> dict:
    original = err.original_error
    if isinstance(original, GraphQLError) and not err.extensions and original.extensions:
        err.extensions = dict(original.extensions)
    if original is not None and not isinstance(original, GraphQLError):
        request_id = str(uuid.uuid4())
        current_app.logger.error("resolver failed (request %s)", request_id, exc_info=original)
        message = ("Internal error. Looks like something went wrong on our end.\n"
                   f"Request ID: {request_id} (include this in support requests).")
        return _error_dict(GraphQLError(message, err.nodes, path=err.path),
                           "INTERNAL_SERVER_ERROR", requestId=request_id)
    return _error_dict(err, None)
