"""Usage analytics: ingestion of user-activity events, dashboards and reports."""
