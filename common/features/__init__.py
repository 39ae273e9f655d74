"""Feature storage for recommendations: one small protocol (base.py), one module per backend.

store = create_feature_store(settings)   # Redis when SV_REDIS_URL is set, in process otherwise
"""

from common.features.base import FeatureLimits, FeatureStore
from common.settings import Settings


def create_feature_store(settings: Settings, limits: FeatureLimits | None = None) -> FeatureStore:
    if settings.redis_url:
        from common.features.redis import RedisFeatureStore

        return RedisFeatureStore(
            settings.redis_url,
            timeout=settings.redis_timeout_seconds,
            retry_after=settings.redis_retry_seconds,
            limits=limits,
        )
    from common.features.memory import MemoryFeatureStore

    return MemoryFeatureStore(limits)


__all__ = ["FeatureLimits", "FeatureStore", "create_feature_store"]
