"""The engine's real-time features: one storage protocol, two backends, the per-user layer.

    store = create_feature_store(settings)     # Redis when SV_REDIS_URL is set, in process otherwise
    features = SharedFeatures(store)           # each user's UserFeatures kept in that store

base.py (FeatureStore, the protocol), memory.py and redis.py (its backends), user.py (one
user's features: what serving reads), shared.py (UserFeatures in a FeatureStore).
"""

from common.settings import Settings
from reco_svc.features.base import FeatureLimits, FeatureStore


def create_feature_store(settings: Settings, limits: FeatureLimits | None = None) -> FeatureStore:
    if settings.redis_url:
        from reco_svc.features.redis import RedisFeatureStore

        return RedisFeatureStore(
            settings.redis_url,
            timeout=settings.redis_timeout_seconds,
            retry_after=settings.redis_retry_seconds,
            limits=limits,
        )
    from reco_svc.features.memory import MemoryFeatureStore

    return MemoryFeatureStore(limits)


__all__ = ["FeatureLimits", "FeatureStore", "create_feature_store"]
