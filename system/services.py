"""All three gRPC services in one process, sharing the in-process event bus (the laptop profile).

python -m system.services      # what `./storyverse run` starts without Kafka (system/launcher.py)
"""

from __future__ import annotations

import asyncio

from analytics_svc.service import SPEC as ANALYTICS
from common.grpc_server import serve
from common.logs import configure_logging
from common.settings import Settings
from feedback_svc.service import SPEC as FEEDBACK
from reco_svc.service import SPEC as RECO


def run_services() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    specs = [
        (ANALYTICS, settings.analytics_port),
        (RECO, settings.reco_port),
        (FEEDBACK, settings.feedback_port),
    ]
    asyncio.run(serve(specs, settings))


if __name__ == "__main__":
    run_services()
