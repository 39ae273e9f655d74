"""The A/B hook: which variant a user sees. The experiments issue fills it in.

    assigner.assign(user_id, "characters") -> "control"

Serving records the variant on every list (RecommendationList.variant) next to the model
version, so clicks can be attributed. A real assigner hashes (experiment, user) into
buckets and may map a variant to a model version or a ranking option via `options`.
"""

from __future__ import annotations

from typing import Protocol

CONTROL = "control"


class VariantAssigner(Protocol):
    def assign(self, user_id: str, surface: str) -> str: ...

    def options(self, variant: str) -> dict[str, object]: ...


class ControlOnly:
    """No experiment running: everyone is in control, with the default options."""

    def assign(self, user_id: str, surface: str) -> str:
        return CONTROL

    def options(self, variant: str) -> dict[str, object]:
        return {}
