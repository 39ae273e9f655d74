"""python -m feedback_svc: run the feedback gRPC service alone."""

import asyncio

from common.grpc_server import serve
from common.logs import configure_logging
from common.settings import Settings
from feedback_svc.service import SPEC

if __name__ == "__main__":
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(serve([(SPEC, settings.feedback_port)], settings))
