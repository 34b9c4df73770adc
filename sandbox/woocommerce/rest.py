"""WordPress REST plumbing shared by the routes: WP_Error bodies, JSON output, params, paging."""
from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from sandbox.woocommerce.serializers import php_json

PERMISSION_ERRORS = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": ("woocommerce_rest_cannot_delete",
               "Sorry, you are not allowed to delete this resource."),
    "batch": ("woocommerce_rest_cannot_batch",
              "Sorry, you are not allowed to batch manipulate this resource."),
}


class RestError(Exception):
    """A WP_Error on its way out: ``{"code","message","data":{"status",...}}``."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.data = code, message, status, data

    def body(self) -> dict[str, Any]:
        """The JSON WordPress sends for this error."""
        return {"code": self.code, "message": self.message,
                "data": {"status": self.status, **self.data}}


def no_route() -> RestError:
    """What WordPress answers for an unknown route or a method the route lacks."""
    return RestError("rest_no_route", "No route was found matching the URL and request method.",
                     404)


def invalid_id(post_type: str, status: int = 404, message: str = "Invalid ID.") -> RestError:
    """``woocommerce_rest_{post_type}_invalid_id``."""
    return RestError(f"woocommerce_rest_{post_type}_invalid_id", message, status)


def invalid_params(problems: dict[str, str], code: str = "rest_invalid_param") -> RestError:
    """rest_invalid_param with WordPress's params/details."""
    return RestError(code, "Invalid parameter(s): " + ", ".join(problems), 400,
                     params=problems,
                     details={k: {"code": "rest_invalid_param", "message": v, "data": None}
                              for k, v in problems.items()})


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A REST response encoded like wp_json_encode()."""
    response = Response(php_json(data), status=status,
                        content_type="application/json; charset=UTF-8")
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["X-Content-Type-Options"] = "nosniff"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def params() -> dict[str, Any]:
    """WP_REST_Request::get_params(): JSON body, then form body, then query (query wins)."""
    merged: dict[str, Any] = {}
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        merged.update(body)
    merged.update(request.form.to_dict())
    merged.update(request.args.to_dict())
    return merged


def int_param(args: dict[str, Any], name: str, default: int, *, low: int = 1,
              high: int | None = None) -> int:
    """An integer query parameter checked the way the collection schema checks it."""
    raw = args.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise invalid_params({name: f"{name} is not of type integer."}) from None
    if value < low or (high is not None and value > high):
        bound = (f"{name} must be between {low} (inclusive) and {high} (inclusive)"
                 if high is not None else f"{name} must be greater than or equal to {low}")
        raise invalid_params({name: bound})
    return value


def paginate(items: list[Any], args: dict[str, Any], route_url: str) -> tuple[list[Any], dict]:
    """Slice by page/per_page and build X-WP-Total, X-WP-TotalPages and Link."""
    per_page = int_param(args, "per_page", 10, high=100)
    page = int_param(args, "page", 1)
    total = len(items)
    max_pages = math.ceil(total / per_page) if total else 0
    chunk = items[(page - 1) * per_page: page * per_page]
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(max_pages)}
    query = {k: v for k, v in request.args.items(multi=False) if k != "page"}
    link_parts = []
    if page > 1:
        prev_page = min(page - 1, max_pages) if max_pages else page - 1
        link_parts.append(f'<{route_url}?{urlencode({**query, "page": prev_page})}>; rel="prev"')
    if max_pages > page:
        link_parts.append(f'<{route_url}?{urlencode({**query, "page": page + 1})}>; rel="next"')
    if link_parts:
        headers["Link"] = ", ".join(link_parts)
    return chunk, headers


def truthy(value: Any) -> bool:
    """rest_sanitize_boolean()."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)
