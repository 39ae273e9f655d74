"""Write src/storyverse_client/contract.binpb: the contract's descriptors the client needs.

    PYTHONPATH=.:gen python storyverse_client/make_contract.py     # after a change in proto/

The client builds its protobuf messages from this file in a pool of its own, so it needs
neither the repository's generated code nor protoc. tests/client checks that it is current.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

MODULES = (
    "storyverse.analytics.v1.analytics_service_pb2",
    "storyverse.recommendation.v1.recommendation_service_pb2",
    "storyverse.feedback.v1.feedback_service_pb2",
    # Error details in trailers (grpc-status-details-bin): field violations.
    "google.rpc.status_pb2",
    "google.rpc.error_details_pb2",
)
TARGET = Path(__file__).resolve().parent / "src" / "storyverse_client" / "contract.binpb"


def descriptor_set() -> bytes:
    """The files of MODULES and everything they import, dependencies first."""
    ordered, seen = [], set()

    def visit(file) -> None:
        if file.name in seen:
            return
        seen.add(file.name)
        for dependency in file.dependencies:
            visit(dependency)
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        ordered.append(proto)

    for name in MODULES:
        visit(importlib.import_module(name).DESCRIPTOR)
    return descriptor_pb2.FileDescriptorSet(file=ordered).SerializeToString(deterministic=True)


if __name__ == "__main__":
    TARGET.write_bytes(descriptor_set())
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)", file=sys.stderr)
