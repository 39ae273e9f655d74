"""The contract's messages, built from contract.binpb in a descriptor pool of the client's own
(no generated code, no clash with another copy of the contract in the same process)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

RECORD_EVENTS = "storyverse.analytics.v1.AnalyticsService.RecordEvents"
RECOMMEND = "storyverse.recommendation.v1.RecommendationService.Recommend"
SUBMIT_FEEDBACK = "storyverse.feedback.v1.FeedbackService.SubmitFeedback"
STATUS_DETAILS_KEY = "grpc-status-details-bin"


@cache
def pool() -> descriptor_pool.DescriptorPool:
    files = descriptor_pb2.FileDescriptorSet.FromString(
        resources.files("storyverse_client").joinpath("contract.binpb").read_bytes()
    )
    own = descriptor_pool.DescriptorPool()
    for file in files.file:  # dependencies first (make_contract.py)
        own.Add(file)
    return own


def _method(full_name: str) -> Any:
    service, _, name = full_name.rpartition(".")
    return pool().FindServiceByName(service).methods_by_name[name]


def classes(full_name: str) -> tuple[type, type]:
    method = _method(full_name)
    return (
        message_factory.GetMessageClass(method.input_type),
        message_factory.GetMessageClass(method.output_type),
    )


def path(full_name: str) -> str:
    service, _, name = full_name.rpartition(".")
    return f"/{service}/{name}"


def to_message(full_name: str, body: dict) -> Any:
    request_class, _ = classes(full_name)
    return json_format.ParseDict(body, request_class(), descriptor_pool=pool())


def to_dict(message: Any) -> dict:
    """As the gateway writes it: proto field names, fields at their defaults included."""
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        descriptor_pool=pool(),
    )


def field_violations(trailers: dict) -> list[dict]:
    raw = trailers.get(STATUS_DETAILS_KEY)
    if not raw:
        return []
    status = message_factory.GetMessageClass(pool().FindMessageTypeByName("google.rpc.Status"))
    bad_request = message_factory.GetMessageClass(pool().FindMessageTypeByName("google.rpc.BadRequest"))
    found = []
    for detail in status.FromString(raw).details:
        if detail.type_url.endswith("/google.rpc.BadRequest"):
            for v in bad_request.FromString(detail.value).field_violations:
                found.append({"field": v.field, "description": v.description})
    return found
