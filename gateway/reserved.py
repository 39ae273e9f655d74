"""Ids the HTTP routes could never address, refused where they would be written.

A literal segment beats a variable at the same position (routes.py), so GET
/api/feedback/summary is never GetStoryFeedback(story_id="summary"): feedback about a story
called "summary" would be stored and never read back over HTTP. The words are found in the
route table, not listed by hand: for each route with a one-segment variable, the literals that
other routes of the same method, verb and length (and compatible elsewhere) put at that
position and that win over it. Each write route of the same service (a route with a body)
then refuses them in the field of that name nearest the top of its request (the shallowest
singular one: `feedback.story_id` in SubmitFeedback, `experiment.key` in CreateExperiment,
not a variant's key deeper down). gRPC addresses by field, not by path, so gRPC is not
affected.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from common.errors import FieldViolation
from gateway.errors import GatewayError
from gateway.routes import DEEP_WILDCARD, LITERAL, WILDCARD, Route, Router


@dataclass(frozen=True)
class Reserved:
    """Words a field must not take, each with the route that owns it."""

    path: tuple[str, ...]  # field names from the request message down to the field
    words: dict[str, str]  # word -> the template of the route that takes it


def shadowed_words(router: Router) -> dict[str, dict[str, dict[str, str]]]:
    """service full name -> variable's field name -> {word: template of the winning route}."""
    found: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    order = {route: n for n, route in enumerate(router.routes)}  # sorted by precedence
    for route in router.routes:
        segments = route.template.segments
        for i, segment in enumerate(segments):
            variable = segment.variable
            if variable is None or segment.kind != WILDCARD:
                continue
            if sum(s.variable == variable for s in segments) != 1:
                continue  # only a variable that is exactly one segment
            for other in router.routes:
                if order[other] > order[route] or not _collide(route, other, i):
                    continue
                service = route.method.containing_service.full_name
                found[service][variable.split(".")[-1]][other.template.segments[i].literal] = (
                    other.template.source
                )
    return found


def _collide(route: Route, other: Route, i: int) -> bool:
    """Whether some path matches both, with `other`'s literal at position i."""
    a, b = route.template.segments, other.template.segments
    if other is route or other.http_method != route.http_method or other.template.verb != route.template.verb:
        return False
    if len(a) != len(b) or any(s.kind == DEEP_WILDCARD for s in (*a, *b)) or b[i].kind != LITERAL:
        return False
    pairs = zip(a, b, strict=True)
    return all(x.kind != LITERAL or y.kind != LITERAL or x.literal == y.literal for x, y in pairs)


def write_checks(router: Router) -> dict[Route, list[Reserved]]:
    """route -> what its request must not carry, for the write routes that have something."""
    words = shadowed_words(router)
    checks: dict[Route, list[Reserved]] = {}
    for route in router.routes:
        by_field = words.get(route.method.containing_service.full_name)
        if not route.body or not by_field:
            continue
        found = [
            Reserved(path, by_field[name])
            for name in sorted(by_field)
            if (path := _shallowest(route.method.input_type, name)) is not None
        ]
        if found:
            checks[route] = found
    return checks


def _shallowest(descriptor: Descriptor, name: str) -> tuple[str, ...] | None:
    """The path to the string field `name` nearest the top, through singular messages only."""
    level: list[tuple[Descriptor, tuple[str, ...]]] = [(descriptor, ())]
    seen: set[str] = set()
    while level:
        for message, path in level:
            field = message.fields_by_name.get(name)
            if field is not None and field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated:
                return (*path, name)
        following = []
        for message, path in level:
            seen.add(message.full_name)
            for field in message.fields:
                nested = field.message_type
                if nested is None or field.is_repeated or nested.full_name.startswith("google.protobuf."):
                    continue
                if nested.full_name not in seen:
                    following.append((nested, (*path, field.name)))
        level = following
    return None


def refuse_reserved(checks: list[Reserved], request: Message) -> None:
    """GatewayError(400) naming the field when the request sets it to a word a route owns."""
    for reserved in checks:
        value: object = request
        for name in reserved.path:
            value = getattr(value, name)
        if value in reserved.words:
            field = ".".join(reserved.path)
            description = (
                f"{value!r} cannot be used: {reserved.words[value]} is another route, so this "
                f"{reserved.path[-1]} could never be read back over HTTP; choose another"
            )
            violation = FieldViolation(field, description)
            raise GatewayError(400, f"invalid request: {field}: {description}", [violation])
