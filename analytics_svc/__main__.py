"""python -m analytics_svc: run the usage analytics gRPC service alone."""

import asyncio

from analytics_svc.service import SPEC
from common.grpc_server import serve
from common.logs import configure_logging
from common.settings import Settings

if __name__ == "__main__":
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(serve([(SPEC, settings.analytics_port)], settings))
