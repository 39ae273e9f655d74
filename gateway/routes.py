"""Routes from the contract: `google.api.http` options parsed into path templates.

Template grammar (google/api/http.proto):
    Template = "/" Segments [ ":" Verb ]
    Segment  = "*" | "**" | LITERAL | "{" FieldPath [ "=" Segments ] "}"
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType
from urllib.parse import unquote

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

# The proto packages the gateway fronts, and the Settings attribute naming each one's backend.
BACKEND_PACKAGES = {
    "storyverse.analytics.v1": "analytics_target",
    "storyverse.recommendation.v1": "reco_target",
    "storyverse.feedback.v1": "feedback_target",
    # Admin RPCs are served by the analytics process (it owns the shared database).
    "storyverse.admin.v1": "analytics_target",
}

HTTP_METHODS = ("get", "put", "post", "delete", "patch")

LITERAL, VARIABLE, WILDCARD, DEEP_WILDCARD = 0, 1, 2, 3


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Segment:
    kind: int  # LITERAL, WILDCARD ("*") or DEEP_WILDCARD ("**")
    literal: str = ""
    # The field path this segment is captured into, or None for a literal / anonymous wildcard.
    variable: str | None = None


@dataclass(frozen=True)
class PathTemplate:
    source: str
    segments: tuple[Segment, ...]
    verb: str | None

    @property
    def variables(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for s in self.segments:
            if s.variable:
                seen.setdefault(s.variable)
        return tuple(seen)

    @property
    def literal_count(self) -> int:
        return sum(s.kind == LITERAL for s in self.segments)

    def precedence(self) -> tuple:
        """Sort key: at the first differing position a literal beats a variable beats `**`;
        then the template with more literal segments; then one with a verb."""
        kinds = tuple(
            LITERAL if s.kind == LITERAL else (DEEP_WILDCARD if s.kind == DEEP_WILDCARD else VARIABLE)
            for s in self.segments
        )
        return (kinds, -self.literal_count, self.verb is None)

    def match(self, raw_path: str) -> dict[str, str] | None:
        """Match a raw (still percent-encoded) path; return the decoded variables or None."""
        if self.verb is not None:
            suffix = ":" + self.verb
            if not raw_path.endswith(suffix):
                return None
            raw_path = raw_path[: -len(suffix)]
        if not raw_path.startswith("/"):
            return None
        parts = raw_path[1:].split("/")
        captured: dict[str, list[str]] = {}
        i = 0
        for n, seg in enumerate(self.segments):
            if seg.kind == DEEP_WILDCARD:
                # `**` only ends a template: it takes the rest, including slashes.
                rest = parts[i:]
                if n != len(self.segments) - 1:
                    return None
                if seg.variable:
                    captured.setdefault(seg.variable, []).extend(rest)
                i = len(parts)
                break
            if i >= len(parts):
                return None
            part = parts[i]
            if seg.kind == LITERAL and unquote(part) != seg.literal:
                return None
            if seg.kind != LITERAL and part == "":
                return None  # a wildcard never matches an empty segment
            if seg.variable:
                captured.setdefault(seg.variable, []).append(part)
            i += 1
        if i != len(parts):
            return None
        # Single-segment values are fully decoded; multi-segment ones keep their slashes.
        return {name: "/".join(unquote(p) for p in values) for name, values in captured.items()}


def parse_template(source: str) -> PathTemplate:
    if not source.startswith("/"):
        raise TemplateError(f"template {source!r} must start with '/'")
    body, verb = source[1:], None
    # The verb is a ':' after the last '/' that is outside braces.
    depth, last_colon = 0, -1
    for pos, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "/" and depth == 0:
            last_colon = -1
        elif ch == ":" and depth == 0:
            last_colon = pos
    if last_colon >= 0:
        body, verb = body[:last_colon], body[last_colon + 1 :]
        if not verb:
            raise TemplateError(f"template {source!r} has an empty verb")
    segments: list[Segment] = []
    bound: set[str] = set()
    for token in _split_top_level(body, source):
        if token.startswith("{"):
            if not token.endswith("}"):
                raise TemplateError(f"template {source!r}: unclosed variable {token!r}")
            inner = token[1:-1]
            name, _, sub = inner.partition("=")
            if not name or not all(p.isidentifier() for p in name.split(".")):
                raise TemplateError(f"template {source!r}: bad field path {name!r}")
            if name in bound:
                raise TemplateError(f"template {source!r} binds {name!r} twice")
            bound.add(name)
            sub_segments = [_plain_segment(t, source) for t in sub.split("/")] if sub else [Segment(WILDCARD)]
            # Literals inside `{name=shelves/*}` belong to the captured value too.
            segments += [Segment(s.kind, s.literal, name) for s in sub_segments]
        else:
            segments.append(_plain_segment(token, source))
    if any(s.kind == DEEP_WILDCARD for s in segments[:-1]):
        raise TemplateError(f"template {source!r}: '**' must be the last segment")
    return PathTemplate(source, tuple(segments), verb)


def _split_top_level(body: str, source: str) -> list[str]:
    tokens, depth, current = [], 0, ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise TemplateError(f"template {source!r}: unbalanced '}}'")
        if ch == "/" and depth == 0:
            tokens.append(current)
            current = ""
        else:
            current += ch
    if depth:
        raise TemplateError(f"template {source!r}: unbalanced '{{'")
    tokens.append(current)
    if any(t == "" for t in tokens):
        raise TemplateError(f"template {source!r} has an empty segment")
    return tokens


def _plain_segment(token: str, source: str) -> Segment:
    if token == "*":
        return Segment(WILDCARD)
    if token == "**":
        return Segment(DEEP_WILDCARD)
    if not token or any(c in token for c in "{}*/"):
        raise TemplateError(f"template {source!r}: bad segment {token!r}")
    return Segment(LITERAL, token)


@dataclass(frozen=True)
class Route:
    http_method: str  # upper case
    template: PathTemplate
    method: MethodDescriptor
    body: str  # "" (no body), "*" (whole message) or a top-level field name
    response_body: str  # "" (whole response) or a top-level field name
    settings_target: str  # Settings attribute holding the backend address

    @property
    def grpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def server_streaming(self) -> bool:
        return self.method.server_streaming

    @property
    def client_streaming(self) -> bool:
        return self.method.client_streaming


class RouteNotFound(Exception):
    pass


class MethodNotAllowed(Exception):
    def __init__(self, allowed: list[str]):
        super().__init__(", ".join(allowed))
        self.allowed = allowed


# Resolved (method, raw path) pairs remembered by a Router; all forgotten when it is full.
RESOLVED_CACHE_SIZE = 4096


@dataclass
class Router:
    routes: list[Route] = field(default_factory=list)
    # (method, raw path) -> (route, variables): each request resolves its path twice (the
    # telemetry middleware names the route, the handler calls it), and most paths repeat.
    _resolved: dict[tuple[str, str], tuple[Route, dict[str, str]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def add(self, route: Route) -> None:
        self._resolved.clear()
        for other in self.routes:
            if other.http_method == route.http_method and other.template.source == route.template.source:
                raise TemplateError(
                    f"{route.http_method} {route.template.source} is bound twice "
                    f"({other.method.full_name}, {route.method.full_name})"
                )
        self.routes.append(route)
        self.routes.sort(key=lambda r: r.template.precedence())

    def resolve(self, http_method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        """The best route for this path; RouteNotFound or MethodNotAllowed(allowed) otherwise.
        The variables' dict is shared between calls: read it, do not change it."""
        key = (http_method, raw_path)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve(http_method, raw_path)
            if len(self._resolved) >= RESOLVED_CACHE_SIZE:
                self._resolved.clear()
            self._resolved[key] = found
        return found

    def _resolve(self, http_method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        allowed: list[str] = []
        for route in self.routes:  # sorted by precedence
            params = route.template.match(raw_path)
            if params is None:
                continue
            if route.http_method == http_method:
                return route, params
            if route.http_method not in allowed:
                allowed.append(route.http_method)
        if allowed:
            raise MethodNotAllowed(sorted(allowed))
        raise RouteNotFound(raw_path)


def load_proto_modules(packages: list[str] | None = None) -> list[ModuleType]:
    """Import every generated `*_pb2` module of the fronted packages (registers their descriptors)."""
    modules = []
    for package in packages or list(BACKEND_PACKAGES):
        pkg = importlib.import_module(package)
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name.endswith("_pb2"):
                modules.append(importlib.import_module(f"{package}.{info.name}"))
    return modules


def discover_services(modules: list[ModuleType] | None = None) -> list[ServiceDescriptor]:
    services = []
    for module in modules if modules is not None else load_proto_modules():
        services += list(module.DESCRIPTOR.services_by_name.values())
    return sorted(services, key=lambda s: s.full_name)


def rules_of_method(method: MethodDescriptor) -> list[http_pb2.HttpRule]:
    """The method's HttpRule and its additional_bindings, flattened."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return []
    rule = options.Extensions[annotations_pb2.http]
    return [rule, *rule.additional_bindings]


def route_from_rule(method: MethodDescriptor, rule: http_pb2.HttpRule, settings_target: str) -> Route:
    kind = rule.WhichOneof("pattern")
    if kind == "custom":
        verb, path = rule.custom.kind.upper(), rule.custom.path
    elif kind in HTTP_METHODS:
        verb, path = kind.upper(), getattr(rule, kind)
    else:
        raise TemplateError(f"{method.full_name}: HttpRule without a pattern")
    fields = method.input_type.fields_by_name
    if rule.body not in ("", "*") and rule.body not in fields:
        raise TemplateError(f"{method.full_name}: body field {rule.body!r} does not exist")
    if rule.response_body and rule.response_body not in method.output_type.fields_by_name:
        raise TemplateError(f"{method.full_name}: response_body field {rule.response_body!r} does not exist")
    if method.client_streaming:
        raise TemplateError(f"{method.full_name}: client-streaming RPCs cannot be transcoded")
    return Route(verb, parse_template(path), method, rule.body, rule.response_body, settings_target)


def build_router(services: list[ServiceDescriptor] | None = None) -> Router:
    router = Router()
    for service in services if services is not None else discover_services():
        target = BACKEND_PACKAGES.get(service.file.package)
        if target is None:
            continue
        for method in service.methods:
            for rule in rules_of_method(method):
                router.add(route_from_rule(method, rule, target))
    return router
