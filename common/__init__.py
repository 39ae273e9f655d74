"""Plumbing shared by every service: settings, database, migrations, validation,
gRPC server, event bus, logging. Written once, used by analytics_svc, reco_svc,
feedback_svc and gateway."""
