"""gRPC transport of the recommendation engine.

The RPCs answer UNIMPLEMENTED (the generated base servicer) until the
recommendation issue lands; validation of their requests already applies.
"""

from __future__ import annotations

from storyverse.recommendation.v1 import recommendation_service_pb2_grpc as pb_grpc


class RecommendationServicer(pb_grpc.RecommendationServiceServicer):
    pass
