"""Health, reflection and UNIMPLEMENTED answers of the real servers on loopback."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from storyverse.feedback.v1 import feedback_service_pb2 as fb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as fb_grpc

from tests.common.settled import settled

SERVICES = {
    "analytics": "storyverse.analytics.v1.AnalyticsService",
    "reco": "storyverse.recommendation.v1.RecommendationService",
    "feedback": "storyverse.feedback.v1.FeedbackService",
}


async def test_each_service_is_serving_and_listed_by_reflection(analytics, reco, feedback):
    for name, service in zip(SERVICES, (analytics, reco, feedback), strict=True):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for checked in ("", SERVICES[name]):
                reply = await settled(
                    lambda h=health, c=checked: h.Check(health_pb2.HealthCheckRequest(service=c)),
                    lambda r: r.status == health_pb2.HealthCheckResponse.SERVING,
                )
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            responses = reflection.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            listed = None
            async for response in responses:
                listed = {s.name for s in response.list_services_response.service}
                break
            assert SERVICES[name] in listed
            assert "grpc.health.v1.Health" in listed


async def test_reflection_describes_the_contract(analytics):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{analytics.port}") as channel:
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICES["analytics"])
        async for response in reflection.ServerReflectionInfo(iter([request])):
            files = response.file_descriptor_response.file_descriptor_proto
            assert files, "reflection returned no descriptors"
            break


async def test_validation_applies_before_the_rpc_runs(feedback):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{feedback.port}") as channel:
        stub = fb_grpc.FeedbackServiceStub(channel)
        try:
            await stub.SubmitFeedback(fb.SubmitFeedbackRequest(feedback=fb.FeedbackEntry(rating=9)))
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        else:
            raise AssertionError("an invalid request must be refused")
        entry = fb.FeedbackEntry(
            feedback_id="f1", user_id="u1", story_id="s1", timestamp="2025-03-20T16:45:00Z", rating=4
        )
        # SubmitFeedback is built now (issue 6): the valid request passes validation and is stored.
        reply = await stub.SubmitFeedback(fb.SubmitFeedbackRequest(feedback=entry))
        assert reply.feedback_id == "f1"


async def test_health_turns_not_serving_on_shutdown(settings):
    from common.bus.inprocess import InProcessBus
    from common.grpc_server import start
    from reco_svc.service import SPEC

    service = await start(SPEC, settings, 0, InProcessBus())  # the session's reco has the groups
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        watch = health.Watch(health_pb2.HealthCheckRequest(service=""))
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        stopping = service.health.enter_graceful_shutdown()
        await stopping
        second = await watch.read()
        assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
        watch.cancel()
    await service.stop(grace=0.5)


V1_REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"


async def _reflect_v1(port: int, request: reflection_pb2.ServerReflectionRequest):
    """One request to reflection v1 (what current grpcurl asks for first); v1 and v1alpha
    messages are the same bytes, so the v1alpha classes encode and decode them."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.stream_stream(
            V1_REFLECTION,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        async for response in call(iter([request])):
            return response
    raise AssertionError("reflection v1 sent no answer")


async def test_reflection_v1_is_served_beside_v1alpha(analytics, reco, feedback):
    from google.protobuf import descriptor_pb2

    for name, service in zip(SERVICES, (analytics, reco, feedback), strict=True):
        listed = await _reflect_v1(service.port, reflection_pb2.ServerReflectionRequest(list_services=""))
        names = {s.name for s in listed.list_services_response.service}
        assert {SERVICES[name], "grpc.reflection.v1.ServerReflection"} <= names
        assert "grpc.reflection.v1alpha.ServerReflection" in names
        described = await _reflect_v1(
            service.port, reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICES[name])
        )
        files = [
            descriptor_pb2.FileDescriptorProto.FromString(raw)
            for raw in described.file_descriptor_response.file_descriptor_proto
        ]
        assert any(s.name == SERVICES[name].rsplit(".", 1)[1] for f in files for s in f.service)
    # `grpcurl describe grpc.reflection.v1.ServerReflection` needs its descriptor too.
    own = await _reflect_v1(
        analytics.port,
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="grpc.reflection.v1.ServerReflection"),
    )
    (raw,) = own.file_descriptor_response.file_descriptor_proto
    v1 = descriptor_pb2.FileDescriptorProto.FromString(raw)
    assert v1.package == "grpc.reflection.v1"
    assert v1.service[0].method[0].input_type == ".grpc.reflection.v1.ServerReflectionRequest"
