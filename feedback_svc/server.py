"""gRPC transport of the feedback service.

The RPCs answer UNIMPLEMENTED (the generated base servicer) until the feedback
issue lands; validation of their requests already applies.
"""

from __future__ import annotations

from storyverse.feedback.v1 import feedback_service_pb2_grpc as pb_grpc


class FeedbackServicer(pb_grpc.FeedbackServiceServicer):
    pass
