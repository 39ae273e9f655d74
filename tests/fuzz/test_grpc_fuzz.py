"""Hypothesis on the protobuf requests of every unary RPC, straight at the gRPC services:
whatever the content, the answer is OK or a deliberate status, never INTERNAL or UNKNOWN."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.routes import build_router
from gateway.transcode import message_class

EXAMPLES = 30
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
# Odd text on purpose: control characters, NUL, right-to-left marks, emoji, SQL and paths.
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["'; DROP TABLE events; --", "../../etc/passwd", "\x00", "\u202e", "🐉" * 50, "a" * 3000]
    ),
)
SCALARS = {
    F.TYPE_STRING: TEXT,
    F.TYPE_BOOL: st.booleans(),
    F.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    F.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    F.TYPE_UINT32: st.integers(0, 2**32 - 1),
    F.TYPE_DOUBLE: st.floats(allow_nan=True, allow_infinity=True),
    F.TYPE_FLOAT: st.floats(width=32, allow_nan=True, allow_infinity=True),
}


def field_values(field, depth: int):
    if field.type == F.TYPE_MESSAGE:
        if field.message_type.full_name.startswith("google.") or depth > 2:
            return None
        inner = messages(field.message_type, depth + 1)
        return st.lists(inner, max_size=3) if field.is_repeated else inner
    if field.type == F.TYPE_ENUM:
        base = st.sampled_from([v.number for v in field.enum_type.values])
    else:
        base = SCALARS.get(field.type)
    if base is None:
        return None
    return st.lists(base, max_size=5) if field.is_repeated else base


def messages(descriptor, depth: int = 0):
    cls = message_class(descriptor)
    fields = {f.name: s for f in descriptor.fields if (s := field_values(f, depth)) is not None}

    @st.composite
    def build(draw):
        message = cls()
        for name, strategy in fields.items():
            if not draw(st.booleans()):
                continue
            value = draw(strategy)
            if isinstance(value, list):
                getattr(message, name).extend(value)
            elif hasattr(value, "SerializeToString"):
                getattr(message, name).CopyFrom(value)
            else:
                setattr(message, name, value)
        return message

    return build()


async def test_no_request_content_makes_a_service_fail_internally(analytics, reco, feedback):
    ports = {"analytics_target": analytics.port, "reco_target": reco.port, "feedback_target": feedback.port}
    routes = {r.grpc_path: r for r in build_router().routes if not r.server_streaming}
    loop = asyncio.get_running_loop()
    failures: list[str] = []

    def fuzz_rpc(route) -> None:
        channel = grpc.insecure_channel(f"127.0.0.1:{ports[route.settings_target]}")
        call = channel.unary_unary(
            route.grpc_path,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=lambda b: b,
        )

        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(messages(route.method.input_type))
        def run(request) -> None:
            try:
                call(request, timeout=10)
            except grpc.RpcError as exc:
                assert exc.code() not in NEVER, (
                    f"{route.grpc_path}: {exc.code()} {exc.details()} for {request}"
                )

        try:
            run()
        except AssertionError as exc:
            failures.append(str(exc)[:2000])
        finally:
            channel.close()

    for route in routes.values():
        await loop.run_in_executor(None, fuzz_rpc, route)
    assert not failures, "\n".join(failures)


async def test_bytes_that_are_no_protobuf_message_are_invalid_argument(analytics):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{analytics.port}") as channel:
        call = channel.unary_unary(
            "/storyverse.analytics.v1.AnalyticsService/RecordEvents",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        for garbage in (b"\xff\xff\xff\x0f\x12garbage", b"\x0a\xff\xff\xff\xff\x0f", b"\x12\x03\xc3\x28x"):
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await call(garbage, timeout=5)
            assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT, failure.value.details()


async def test_no_bytes_make_a_service_fail_internally(analytics, reco, feedback):
    ports = {"analytics_target": analytics.port, "reco_target": reco.port, "feedback_target": feedback.port}
    routes = [r for r in build_router().routes if not r.server_streaming]

    def fuzz_bytes(route) -> str | None:
        with grpc.insecure_channel(f"127.0.0.1:{ports[route.settings_target]}") as channel:
            call = channel.unary_unary(route.grpc_path, request_serializer=None, response_deserializer=None)

            @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(st.binary(max_size=300))
            def run(data: bytes) -> None:
                try:
                    call(data, timeout=10)
                except grpc.RpcError as exc:
                    assert exc.code() not in NEVER, (
                        f"{route.grpc_path}: {exc.code()} {exc.details()} for {data!r}"
                    )

            try:
                run()
            except AssertionError as exc:
                return str(exc)[:2000]
        return None

    failures = [f for route in routes if (f := await asyncio.to_thread(fuzz_bytes, route))]
    assert not failures, "\n".join(failures)
