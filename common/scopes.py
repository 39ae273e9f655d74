"""Which API-key scope each RPC needs: one table, checked by the gateway and the services.

    scope_of("/storyverse.analytics.v1.AnalyticsService/RecordEvents")   # "ingest"

Ingestion needs `ingest`, reads (reports, dashboard, feedback with comments,
recommendations) need `read`, anything administrative needs `admin`. An RPC missing
from the table needs `admin`: a new method is closed until someone classifies it.
"""

from __future__ import annotations

INGEST, READ, ADMIN = "ingest", "read", "admin"
SCOPES = (INGEST, READ, ADMIN)

_ANALYTICS = "/storyverse.analytics.v1.AnalyticsService/"
_EXPERIMENTS = "/storyverse.analytics.v1.ExperimentService/"
_FEEDBACK = "/storyverse.feedback.v1.FeedbackService/"
_RECO = "/storyverse.recommendation.v1.RecommendationService/"

METHOD_SCOPES: dict[str, str] = {
    _ANALYTICS + "RecordEvent": INGEST,
    _ANALYTICS + "RecordEvents": INGEST,
    _ANALYTICS + "GetDashboard": READ,
    _ANALYTICS + "GetReport": READ,
    _ANALYTICS + "ExportReport": READ,
    _ANALYTICS + "GetRecommendationClickThrough": READ,
    # The app asks which variants a child gets, with the same key it sends events with.
    _EXPERIMENTS + "GetAssignments": INGEST,
    _EXPERIMENTS + "GetExperiment": READ,
    _EXPERIMENTS + "ListExperiments": READ,
    # Creating, changing, starting or stopping an experiment changes what children see.
    _EXPERIMENTS + "CreateExperiment": ADMIN,
    _EXPERIMENTS + "UpdateExperiment": ADMIN,
    _EXPERIMENTS + "StartExperiment": ADMIN,
    _EXPERIMENTS + "StopExperiment": ADMIN,
    _FEEDBACK + "SubmitFeedback": INGEST,
    _FEEDBACK + "GetFeedbackSummary": READ,
    _FEEDBACK + "SearchFeedback": READ,
    _FEEDBACK + "ListAlerts": READ,
    _FEEDBACK + "ListStoryFeedback": READ,
    _FEEDBACK + "WatchAlerts": READ,
    _FEEDBACK + "ListModerationQueue": READ,
    # A moderator's decision changes what children are shown.
    _FEEDBACK + "DecideModeration": ADMIN,
    # Resolving an alert changes what moderators see next.
    _FEEDBACK + "ResolveAlert": ADMIN,
    _RECO + "Recommend": READ,
    _RECO + "ListRecommendations": READ,
    _RECO + "ListFamilyRecommendations": READ,
    _RECO + "ListGoals": READ,
    _RECO + "GetPersonalizationOverview": READ,
    # A parent sets a child's goals through the app, with the key it sends events with.
    _RECO + "SetGoals": INGEST,
    _RECO + "ClearGoals": INGEST,
    # The catalog and the model registry: what children can be shown, and by which model.
    _RECO + "UpsertCatalogItem": ADMIN,
    _RECO + "GetCatalogItem": ADMIN,
    _RECO + "ListCatalogItems": ADMIN,
    _RECO + "HideCatalogItem": ADMIN,
    _RECO + "UnhideCatalogItem": ADMIN,
    _RECO + "ListModelVersions": ADMIN,
    _RECO + "ActivateModelVersion": ADMIN,
    _RECO + "RollbackModelVersion": ADMIN,
}


def scope_of(method: str) -> str:
    """The scope a call of `method` ("/package.Service/Method") needs."""
    return METHOD_SCOPES.get(method, ADMIN)
