"""OpenAPI 3.0 document generated from the same descriptors and HttpRules as the router.

Validation rules (`storyverse.common.v1.rules`) become JSON Schema keywords: `in` -> enum,
min_len/max_len -> minLength/maxLength, pattern -> anchored pattern, gte/lte -> minimum/maximum,
max_items -> maxItems, item_* -> the array's items, required -> `required` (and minLength /
minItems 1), date / rfc3339 -> format. A rule on a field that is not required only applies to
a non-empty value ("an unset rule checks nothing"), so such schemas also admit "".
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from common.rules import FieldRules, TextRules, field_rules
from gateway.routes import DEEP_WILDCARD, LITERAL, WILDCARD, Route, Router
from gateway.transcode import HTTP_BODY, JSON_CONTENT_TYPE, NDJSON_CONTENT_TYPE, find_field

OPENAPI_VERSION = "3.0.3"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
MAX_QUERY_DEPTH = 3

_F = FieldDescriptor
_INT32 = ("int32", -(2**31), 2**31 - 1)
_UINT32 = ("int64", 0, 2**32 - 1)
_INTEGER_FORMATS = {
    _F.TYPE_INT32: _INT32,
    _F.TYPE_SINT32: _INT32,
    _F.TYPE_SFIXED32: _INT32,
    _F.TYPE_UINT32: _UINT32,
    _F.TYPE_FIXED32: _UINT32,
}
# proto3 JSON writes 64-bit integers as strings (JavaScript numbers lose precision past 2**53).
_INT64_TYPES = {_F.TYPE_INT64, _F.TYPE_SINT64, _F.TYPE_SFIXED64, _F.TYPE_UINT64, _F.TYPE_FIXED64}
_WELL_KNOWN = {
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Any": {
        "type": "object",
        "required": ["@type"],
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
    "google.protobuf.StringValue": {"type": "string"},
    "google.protobuf.BytesValue": {"type": "string", "format": "byte"},
    "google.protobuf.BoolValue": {"type": "boolean"},
    "google.protobuf.DoubleValue": {"type": "number"},
    "google.protobuf.FloatValue": {"type": "number"},
    "google.protobuf.Int32Value": {"type": "integer", "format": "int32"},
    "google.protobuf.UInt32Value": {"type": "integer", "format": "int64", "minimum": 0},
    "google.protobuf.Int64Value": {"type": "string", "format": "int64"},
    "google.protobuf.UInt64Value": {"type": "string", "format": "int64"},
    HTTP_BODY: {"type": "string", "format": "binary"},
}
_RFC3339_PATTERN = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})"
# Month and day ranges spelled out: an optional date has no `format` (it may be ""), so the
# pattern alone must keep fuzzers from taking 7380-64-74 for a valid date.
_DATE_PATTERN = r"[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "details"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "integer", "description": "The HTTP status code."},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "description"],
                "additionalProperties": False,
                "properties": {"field": {"type": "string"}, "description": {"type": "string"}},
            },
        },
    },
}


class SchemaBuilder:
    """Collects component schemas for the messages reached from the routes."""

    def __init__(self) -> None:
        self.components: dict[str, dict] = {"Error": ERROR_SCHEMA}

    def message_ref(self, descriptor: Descriptor) -> dict:
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        if descriptor.full_name not in self.components:
            self.components[descriptor.full_name] = {}  # placeholder first: messages may recurse
            self.components[descriptor.full_name] = self.message_schema(descriptor)
        return {"$ref": f"#/components/schemas/{descriptor.full_name}"}

    def message_schema(self, descriptor: Descriptor, exclude: frozenset[str] = frozenset()) -> dict:
        properties, required = {}, []
        for field in descriptor.fields:
            if field.name in exclude:
                continue
            properties[field.name] = self.field_schema(field)
            if field_rules(field).required:
                required.append(field.name)
        schema: dict = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
        return schema

    def field_schema(self, field: FieldDescriptor) -> dict:
        rules = field_rules(field)
        if field.type == _F.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self.field_schema(value)}
        if field.is_repeated:
            # An element that must match a pattern or a list of values cannot be empty.
            text = rules.text
            item_required = text is not None and bool(text.pattern or text.allowed)
            schema = {"type": "array", "items": self.single_schema(rules, item_required)}
            if rules.max_items:
                schema["maxItems"] = rules.max_items
            if rules.required:
                schema["minItems"] = 1
            return schema
        return self.single_schema(rules, rules.required)

    def single_schema(self, rules: FieldRules, required: bool) -> dict:
        """The schema of one value: a singular field's, or an item's of a repeated one."""
        field = rules.descriptor
        kind = field.type
        if kind == _F.TYPE_MESSAGE:
            return self.message_ref(field.message_type)
        if kind == _F.TYPE_STRING:
            return string_schema(rules.text or TextRules(), required)
        if kind == _F.TYPE_BOOL:
            return {"type": "boolean"}
        if kind == _F.TYPE_BYTES:
            return {"type": "string", "format": "byte"}
        if kind == _F.TYPE_ENUM:
            return {"type": "string", "enum": [v.name for v in field.enum_type.values]}
        if kind in _INT64_TYPES:
            return {"type": "string", "format": "int64", "pattern": _int64_pattern(rules.gte, required)}
        if kind in _INTEGER_FORMATS:
            # Explicit bounds: fuzzers ignore `format`, the gateway rejects out-of-range values.
            fmt, minimum, maximum = _INTEGER_FORMATS[kind]
            schema = {"type": "integer", "format": fmt, "minimum": minimum, "maximum": maximum}
        else:
            schema = {"type": "number", "format": "float" if kind == _F.TYPE_FLOAT else "double"}
        if rules.gte is not None:
            schema["minimum"] = _number(rules.gte)
        if rules.lte is not None:
            schema["maximum"] = _number(rules.lte)
        return schema


def _int64_pattern(gte: float | None, required: bool) -> str:
    """int64 travels as a JSON string: its bounds as a pattern, as far as one can say them
    (no sign from gte >= 0, no zero when required or from gte >= 1; larger bounds are not)."""
    sign = "" if gte is not None and gte >= 0 else "-?"
    nonzero = required or (gte is not None and gte >= 1)
    return f"^{sign}0*[1-9][0-9]*$" if nonzero else f"^{sign}[0-9]+$"


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def string_schema(text: TextRules, required: bool) -> dict:
    schema: dict = {"type": "string"}
    allowed = list(text.allowed)
    optional = not required
    if allowed:
        schema["enum"] = ([""] if optional else []) + allowed
        return schema
    if text.max_len:
        schema["maxLength"] = text.max_len
    if text.min_len or required:
        schema["minLength"] = max(text.min_len, 1 if required else 0)
    pattern = text.pattern or (_DATE_PATTERN if text.date else "")
    if pattern:
        # Our rules use re.fullmatch; JSON Schema patterns are unanchored searches.
        schema["pattern"] = f"^(?:{pattern})?$" if optional else f"^(?:{pattern})$"
    elif (text.max_len or text.min_len) and not text.rfc3339:
        # A length rule alone still refuses NUL (common.validation: PostgreSQL text cannot hold it).
        schema["pattern"] = r"^[^\u0000]*$"
    if text.rfc3339 and not optional:
        schema["format"] = "date-time"
    elif text.rfc3339:  # optional: "" (unset, as the gateway prints defaults) or a timestamp
        schema["pattern"] = f"^(?:{_RFC3339_PATTERN})?$"
    elif text.date and not optional:
        schema["format"] = "date"
    return schema


def openapi_path(route: Route) -> str:
    """/api/feedback/{story_id}; a multi-segment variable shows once; anonymous wildcards get names."""
    parts, seen, wildcard = [], set(), 0
    for segment in route.template.segments:
        if segment.variable:
            if segment.variable not in seen:
                seen.add(segment.variable)
                parts.append("{" + segment.variable + "}")
        elif segment.kind == LITERAL:
            parts.append(segment.literal)
        else:
            wildcard += 1
            parts.append(
                "{" + ("rest" if segment.kind == DEEP_WILDCARD else "wildcard") + f"{wildcard}" + "}"
            )
    path = "/" + "/".join(parts)
    return path + (f":{route.template.verb}" if route.template.verb else "")


def resolve_field(descriptor: Descriptor, path: str) -> FieldDescriptor:
    field = None
    for part in path.split("."):
        field = find_field(descriptor, part)
        if field is None:
            raise KeyError(f"{descriptor.full_name} has no field {part!r} ({path})")
        descriptor = field.message_type
    return field


def query_parameters(
    builder: SchemaBuilder, descriptor: Descriptor, skip: set[str], prefix: str = "", depth: int = 0
) -> list[dict]:
    params = []
    for field in descriptor.fields:
        name = prefix + field.name
        if name in skip:
            continue
        if field.type == _F.TYPE_MESSAGE:
            nested = field.message_type
            if (
                field.is_repeated
                or nested.GetOptions().map_entry
                or nested.full_name.startswith("google.")
                or depth >= MAX_QUERY_DEPTH
            ):
                continue  # not expressible as query parameters
            params += query_parameters(builder, nested, skip, name + ".", depth + 1)
            continue
        # A top-level field the contract requires is a required parameter (a nested one
        # is only required when its parent is sent, which OpenAPI cannot say).
        required = depth == 0 and field_rules(field).required
        param = {"name": name, "in": "query", "required": required, "schema": builder.field_schema(field)}
        if field.is_repeated:
            param.update(style="form", explode=True)
        params.append(param)
    return params


def reserved_values(router: Router, route: Route, variable: str) -> list[str]:
    """Literals that another route puts where this route's single-segment variable is.

    /api/feedback/summary shadows /api/feedback/{story_id}, so "summary" is not a story id here."""
    segments = route.template.segments
    positions = [i for i, s in enumerate(segments) if s.variable == variable]
    if len(positions) != 1 or segments[positions[0]].kind != WILDCARD:
        return []
    at = positions[0]
    reserved = set()
    for other in router.routes:
        theirs = other.template.segments
        if other is route or len(theirs) != len(segments) or other.template.verb != route.template.verb:
            continue
        if theirs[at].kind != LITERAL:
            continue
        if all(
            j == at or mine.kind != LITERAL or (their.kind == LITERAL and their.literal == mine.literal)
            for j, (mine, their) in enumerate(zip(segments, theirs, strict=True))
        ):
            reserved.add(theirs[at].literal)
    return sorted(reserved)


def operation(builder: SchemaBuilder, router: Router, route: Route, operation_id: str) -> dict:
    method, request = route.method, route.method.input_type
    path_vars = route.template.variables
    params = []
    for var in path_vars:
        field = resolve_field(request, var)
        param_schema = builder.single_schema(field_rules(field), required=True)  # never empty
        if reserved := reserved_values(router, route, var):
            param_schema["not"] = {"enum": reserved}
        params.append({"name": var, "in": "path", "required": True, "schema": param_schema})
    wildcards = [
        p[1:-1] for p in openapi_path(route).split("/") if p.startswith("{wildcard") or p.startswith("{rest")
    ]
    params += [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in wildcards
    ]
    op: dict = {
        "operationId": operation_id,
        "tags": [method.containing_service.name],
        "summary": f"{method.containing_service.name}.{method.name}",
        "description": f"gRPC `{route.grpc_path}`",
    }
    if route.body != "*":
        skip = set(path_vars) | ({route.body} if route.body else set())
        params += query_parameters(builder, request, skip)
    if params:
        op["parameters"] = params
    if route.body:
        if route.body == "*":
            schema = builder.message_schema(request, frozenset(v for v in path_vars if "." not in v))
        else:
            schema = builder.field_schema(request.fields_by_name[route.body])
        op["requestBody"] = {"required": True, "content": {JSON_CONTENT_TYPE: {"schema": schema}}}
    op["responses"] = {
        "200": success_response(builder, route),
        "4XX": {"$ref": "#/components/responses/Error"},
        "5XX": {"$ref": "#/components/responses/Error"},
    }
    return op


def success_response(builder: SchemaBuilder, route: Route) -> dict:
    output = route.method.output_type
    if route.response_body:
        field = output.fields_by_name[route.response_body]
        selected = field.message_type if field.type == _F.TYPE_MESSAGE and not field.is_repeated else None
        schema = builder.field_schema(field)
    else:
        selected, schema = output, builder.message_ref(output)
    if selected is not None and selected.full_name == HTTP_BODY:
        # The content type is chosen by the service at run time (e.g. text/csv).
        return {
            "description": "Raw body; its content type comes from the service (e.g. text/csv).",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    if route.server_streaming:
        line = {
            "type": "object",
            "additionalProperties": False,
            "properties": {"result": schema, "error": ERROR_REF},
        }
        return {
            "description": "A stream of newline-delimited JSON objects, one per message.",
            "content": {NDJSON_CONTENT_TYPE: {"schema": line}},
        }
    return {"description": "OK", "content": {JSON_CONTENT_TYPE: {"schema": schema}}}


def build_document(router: Router, title: str = "Storyverse Insights API", version: str = "v1") -> dict:
    builder = SchemaBuilder()
    paths: dict[str, dict] = {}
    used_ids: set[str] = set()
    for route in sorted(router.routes, key=lambda r: (openapi_path(r), r.http_method)):
        base_id = f"{route.method.containing_service.name}_{route.method.name}"
        operation_id, n = base_id, 1
        while operation_id in used_ids:  # additional_bindings share a method
            n += 1
            operation_id = f"{base_id}_{n}"
        used_ids.add(operation_id)
        paths.setdefault(openapi_path(route), {})[route.http_method.lower()] = operation(
            builder, router, route, operation_id
        )
    paths.update(_gateway_paths())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": "HTTP/JSON gateway to the Storyverse gRPC services, generated from the "
            "protobuf contract. Errors always use the Error schema.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(builder.components.items())),
            "responses": {
                "Error": {"description": "Error", "content": {JSON_CONTENT_TYPE: {"schema": ERROR_REF}}}
            },
        },
    }


def _gateway_paths() -> dict:
    ready = {
        "type": "object",
        "required": ["ready", "backends"],
        "properties": {
            "ready": {"type": "boolean"},
            "backends": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    return {
        "/healthz": {
            "get": {
                "operationId": "Gateway_Healthz",
                "tags": ["Gateway"],
                "summary": "Liveness",
                "responses": {
                    "200": {
                        "description": "Alive",
                        "content": {
                            JSON_CONTENT_TYPE: {
                                "schema": {"type": "object", "properties": {"status": {"type": "string"}}}
                            }
                        },
                    }
                },
            }
        },
        "/readyz": {
            "get": {
                "operationId": "Gateway_Readyz",
                "tags": ["Gateway"],
                "summary": "Readiness: every backend's gRPC health service answers SERVING",
                "responses": {
                    "200": {"description": "Ready", "content": {JSON_CONTENT_TYPE: {"schema": ready}}},
                    "503": {"description": "Not ready", "content": {JSON_CONTENT_TYPE: {"schema": ready}}},
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "Gateway_OpenApi",
                "tags": ["Gateway"],
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI document",
                        "content": {JSON_CONTENT_TYPE: {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }
