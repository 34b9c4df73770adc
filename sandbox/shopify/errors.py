"""GraphQL error and userErrors shapes shared by the resolvers."""
from __future__ import annotations

from graphql import GraphQLError, get_named_type

from .schema import DOCS_SCOPES


def access_denied(field_name: str, required: str) -> GraphQLError:
    """Shopify's ACCESS_DENIED error for a field the token's scopes don't cover."""
    required = required.split(" Also:")[0].strip() if required else "additional access scopes."
    return GraphQLError(f"Access denied for {field_name} field. Required access: {required}",
                        extensions={"code": "ACCESS_DENIED", "documentation": DOCS_SCOPES,
                                    "requiredAccess": required})


def not_emulated(type_name: str, field_name: str) -> GraphQLError:
    """A schema field the sandbox does not implement: a loud error, never a silent null."""
    return GraphQLError(f"Field '{type_name}.{field_name}' is valid in Shopify's schema but is "
                        "not emulated by the Stockroom Shopify sandbox.",
                        extensions={"code": "NOT_EMULATED", "typeName": type_name,
                                    "fieldName": field_name})


def user_errors(info, errors) -> list[dict]:
    """``userErrors`` entries for the payload being resolved; codes outside the enum become null."""
    payload_type = get_named_type(info.return_type)
    err_type = get_named_type(payload_type.fields["userErrors"].type)
    code_field = err_type.fields.get("code")
    allowed = set(get_named_type(code_field.type).values) if code_field else set()
    return [{"field": e.field, "message": e.message,
             "code": e.code if e.code in allowed else None} for e in errors]
