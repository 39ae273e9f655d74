"""Goals and families tests: the session's real services, with the reco service's bus
subscriptions delivering (tests/reco/serving/conftest.py)."""

from tests.reco.serving.conftest import reco_live  # noqa: F401
