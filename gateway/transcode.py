"""HTTP <-> protobuf: build the request message from path, query and JSON body; render replies.

Conventions (see docs/gateway.md):
- JSON names are the proto field names (snake_case); camelCase json_names are accepted on input.
- Replies include fields holding default values (0, "", false, []), so clients see every field.
- Nothing is ignored silently: an unknown query parameter or JSON field is a 400 naming it.
- Field paths in error details are relative to the gRPC request message (`event.properties.theme`),
  the same paths the services use in their own BadRequest details.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping

import orjson
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from common.errors import FieldViolation
from gateway.errors import GatewayError
from gateway.fast_render import FastRenderer
from gateway.json_types import INTEGER_RANGES, find_field, first_type_error, kind_of
from gateway.routes import Route

HTTP_BODY = "google.api.HttpBody"
JSON_CONTENT_TYPE = "application/json"
NDJSON_CONTENT_TYPE = "application/x-ndjson"

_F = FieldDescriptor
_INT_RE = re.compile(r"-?[0-9]+")
_TRUE, _FALSE = ("true", "1"), ("false", "0")


def message_class(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


# ---------------------------------------------------------------- request


def build_request(
    route: Route, path_params: Mapping[str, str], query: Mapping[str, list[str]], raw_body: bytes
) -> Message:
    """The gRPC request for one HTTP request. Raises GatewayError(400) naming the culprit."""
    request = message_class(route.method.input_type)()
    _apply_body(request, route, raw_body, path_params)
    for path, value in path_params.items():
        _set_field_path(request, path, [value], source="path variable")
    if query:
        if route.body == "*":
            name = next(iter(query))
            raise GatewayError.bad_request(
                f"unknown query parameter {name!r}: this route takes the whole request in the body",
                name,
                "unknown query parameter",
            )
        for name, values in query.items():
            if name.split(".")[0] == route.body or any(
                name == path or name.startswith(path + ".") for path in path_params
            ):
                raise GatewayError.bad_request(
                    f"query parameter {name!r} is set by the path or the body", name, "not a query parameter"
                )
            _set_field_path(request, name, values, source="query parameter")
    return request


def _apply_body(request: Message, route: Route, raw_body: bytes, path_params: Mapping[str, str]) -> None:
    if not route.body:
        if raw_body.strip():
            raise GatewayError.bad_request(
                f"{route.http_method} {route.template.source} takes no request body"
            )
        return
    if not raw_body.strip():
        raise GatewayError.bad_request("the request body is required (a JSON document)")
    try:
        data = parse_json(raw_body)
    except GatewayError as exc:
        if route.body != "*":  # name duplicate keys by their path in the request message
            exc.details = [FieldViolation(f"{route.body}.{v.field}", v.description) for v in exc.details]
        raise
    if route.body == "*":
        target, prefix = request, ""
        for path in path_params:
            if _json_has_path(data, path):
                raise GatewayError.bad_request(
                    f"field {path!r} is taken from the URL path; do not send it in the body",
                    path,
                    "set by the URL path",
                )
    else:
        field = request.DESCRIPTOR.fields_by_name[route.body]
        if _is_singular_message(field):
            target, prefix = getattr(request, field.name), field.name + "."
        else:  # a scalar or repeated body field: parse it as that field of the request
            target, prefix, data = request, "", {field.name: data}
    if not target.DESCRIPTOR.full_name.startswith("google.protobuf.") and not isinstance(data, dict):
        raise GatewayError.bad_request(
            f"the request body must be a JSON object, not {kind_of(data)}",
            prefix.rstrip(".") or None,
            f"expected a JSON object, got {kind_of(data)}",
        )
    if isinstance(data, dict):
        null = _first_null(data, target.DESCRIPTOR)
        if null is not None:
            path = prefix + null
            raise GatewayError.bad_request(
                f"invalid request body: {path}: null is not a value; leave the field out instead",
                path,
                "null is not allowed; leave the field out",
            )
    if isinstance(data, dict) and (wrong := first_type_error(data, target.DESCRIPTOR)) is not None:
        path, description = prefix + wrong[0], wrong[1]
        raise GatewayError.bad_request(f"invalid request body: {path}: {description}", path, description)
    try:
        json_format.ParseDict(data, target)
    except json_format.ParseError as exc:
        field, description = explain_parse_error(str(exc))
        path = prefix + field if field else prefix.rstrip(".")
        raise GatewayError.bad_request(
            f"invalid request body: {path or 'body'}: {description}", path or None, description
        ) from None
    except (ValueError, TypeError, AttributeError):  # defensive: json_format leaks a few raw errors
        raise GatewayError.bad_request("invalid request body: a value does not fit its field") from None


def _first_null(data: dict, descriptor: Descriptor) -> str | None:
    """The path of the first JSON null in data, outside google.protobuf.Value/Struct fields.

    proto3's JSON mapping reads null as "the default value", which would let a client erase
    a field by accident and contradicts the OpenAPI schema; we refuse it and name the field.
    """
    for key, value in data.items():
        field = find_field(descriptor, key)
        if field is None:
            continue  # unknown fields are reported by json_format, with their name
        message = field.message_type
        if message is not None and message.full_name.startswith("google.protobuf."):
            continue  # Value, Struct, ListValue: null is a real value there
        if value is None:
            return field.name
        if message is not None and not message.GetOptions().map_entry:
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if isinstance(item, dict) and (inner := _first_null(item, message)) is not None:
                    where = f"{field.name}[{index}]" if isinstance(value, list) else field.name
                    return f"{where}.{inner}"
        elif isinstance(value, list) and any(item is None for item in value):
            return field.name
    return None


def _json_has_path(data: object, path: str) -> bool:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def parse_json(raw: bytes) -> object:
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict:
        result: dict = {}
        for key, value in pairs:
            if not key.isascii() and not _is_text(key):
                raise GatewayError.bad_request(f"malformed JSON body: key {key!r} holds a lone surrogate")
            if key in result:
                raise GatewayError.bad_request(
                    f"malformed JSON body: duplicate key {key!r}", key, "duplicate key"
                )
            result[key] = value
        return result

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except UnicodeDecodeError as exc:
        raise GatewayError.bad_request(f"malformed JSON body: not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise GatewayError.bad_request(
            f"malformed JSON body: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise GatewayError.bad_request("malformed JSON body: nested too deeply") from None


def _is_text(key: str) -> bool:
    """False for a str no UTF-8 can hold (a lone surrogate, from a \\ud800 escape): upb's lookups
    of such a key fail with a SystemError."""
    try:
        key.encode()
    except UnicodeEncodeError:
        return False
    return True


_PARSE_PREFIX = re.compile(r"Failed to parse (\w+) field: ")
_UNKNOWN_FIELD = re.compile(r'has no field named "([^"]+)"')
_TRAILING_AT = re.compile(r"\s+at [\w.\[\]]*\.?\s*$")


def explain_parse_error(text: str) -> tuple[str, str]:
    """(field path, description) from a json_format.ParseError message.

    json_format reports nesting as 'Failed to parse a field: Failed to parse b field: <why>'."""
    chain = []
    while match := _PARSE_PREFIX.match(text):
        chain.append(match[1])
        text = text[match.end() :]
    if unknown := _UNKNOWN_FIELD.search(text):
        chain.append(unknown[1])
        return ".".join(chain), "unknown field"
    text = text.split("\n")[0]
    # Some messages end with the full path instead: "... at Event.properties.creation_time."
    if at := _TRAILING_AT.search(text):
        located = [p for p in at[0].strip()[3:].rstrip(".").split(".")[1:] if p]
        if len(located) > len(chain):
            chain = located
    description = _TRAILING_AT.sub("", text).rstrip(".").strip() or "invalid value"
    return ".".join(chain), description


def _is_singular_message(field: FieldDescriptor) -> bool:
    return field.type == _F.TYPE_MESSAGE and not field.is_repeated


def _set_field_path(request: Message, path: str, values: list[str], source: str) -> None:
    container = request
    parts = path.split(".")
    for depth, part in enumerate(parts):
        field = find_field(container.DESCRIPTOR, part)
        so_far = ".".join(parts[: depth + 1])
        if field is None:
            raise GatewayError.bad_request(f"unknown {source} {path!r}", path, f"unknown {source}")
        if depth < len(parts) - 1:
            if not _is_singular_message(field) or field.message_type.GetOptions().map_entry:
                raise GatewayError.bad_request(
                    f"{source} {path!r}: {so_far!r} is not a message field", path, f"unknown {source}"
                )
            container = getattr(container, field.name)
            continue
        if field.type == _F.TYPE_MESSAGE:
            raise GatewayError.bad_request(
                f"{source} {path!r} names a message; set its fields instead, e.g. {path}.<field>",
                path,
                "not a scalar field",
            )
        repeated = field.is_repeated
        if not repeated and len(values) > 1:
            raise GatewayError.bad_request(
                f"{source} {path!r} given {len(values)} times; it takes one value", path, "takes one value"
            )
        try:
            converted = [convert_scalar(field, v) for v in values]
        except ValueError as exc:
            raise GatewayError.bad_request(f"{source} {path!r}: {exc}", path, str(exc)) from None
        try:
            if repeated:
                getattr(container, field.name).extend(converted)
            else:
                setattr(container, field.name, converted[0])
        except (ValueError, TypeError) as exc:
            raise GatewayError.bad_request(f"{source} {path!r}: {exc}", path, str(exc)) from None


def convert_scalar(field: FieldDescriptor, text: str) -> object:
    """A query/path string as the field's Python value; ValueError says what was expected."""
    kind = field.type
    if kind == _F.TYPE_STRING:
        return text
    if kind == _F.TYPE_BOOL:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if kind in INTEGER_RANGES:
        low, high = INTEGER_RANGES[kind]
        if not _INT_RE.fullmatch(text):
            raise ValueError(f"expected an integer, got {text!r}")
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range [{low}, {high}]")
        return value
    if kind in (_F.TYPE_DOUBLE, _F.TYPE_FLOAT):
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if kind == _F.TYPE_FLOAT and math.isfinite(value) and abs(value) > 3.4028234663852886e38:
            raise ValueError(f"{text} is out of range for a float")
        return value
    if kind == _F.TYPE_BYTES:
        try:
            return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise ValueError(f"expected base64 bytes, got {text!r}") from None
    if kind == _F.TYPE_ENUM:
        enum = field.enum_type
        if text in enum.values_by_name:
            return enum.values_by_name[text].number
        if _INT_RE.fullmatch(text) and int(text) in enum.values_by_number:
            return int(text)
        raise ValueError(f"expected one of {sorted(enum.values_by_name)}, got {text!r}")
    raise ValueError(f"unsupported field type {kind}")


# ---------------------------------------------------------------- response


_RENDERER = FastRenderer()


def to_json_value(message: Message) -> object:
    return _RENDERER.render(message)


def dumps(value: object) -> bytes:
    """Compact UTF-8 JSON. orjson (about 15x faster on a recommendation reply) writes the
    same values; json covers what orjson refuses (integers beyond 64 bits, deep nesting)."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def select_response(route: Route, response: Message) -> tuple[object, Message | None]:
    """(JSON value, None) or (None, HttpBody) for the part of the reply the route returns."""
    if not route.response_body:
        if response.DESCRIPTOR.full_name == HTTP_BODY:
            return None, response
        return to_json_value(response), None
    field = response.DESCRIPTOR.fields_by_name[route.response_body]
    if _is_singular_message(field):
        selected = getattr(response, field.name)
        if field.message_type.full_name == HTTP_BODY:
            return None, selected
        return to_json_value(selected), None
    return to_json_value(response).get(field.name), None


def render_response(route: Route, response: Message) -> tuple[bytes, str]:
    """(body, content type) of a unary reply."""
    value, http_body = select_response(route, response)
    if http_body is not None:
        return http_body.data, http_body.content_type or "application/octet-stream"
    return dumps(value), JSON_CONTENT_TYPE


def render_stream_item(route: Route, response: Message) -> bytes:
    """One NDJSON line of a server stream: {"result": ...}."""
    value, http_body = select_response(route, response)
    if http_body is not None:  # raw chunks are not framed; stream them as base64 like grpc-gateway
        value = {"content_type": http_body.content_type, "data": base64.b64encode(http_body.data).decode()}
    return dumps({"result": value}) + b"\n"


def render_stream_error(error: GatewayError) -> bytes:
    return dumps({"error": error.to_dict()}) + b"\n"
