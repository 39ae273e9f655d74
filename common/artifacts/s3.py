"""Artifacts in an S3 bucket (AWS, or any S3-compatible server: MinIO, Ceph, moto).

    S3Store("storyverse-models", prefix="prod/", endpoint_url=None)   # AWS
    S3Store("models", endpoint_url="http://minio:9000")                # S3-compatible

boto3 (the AWS SDK) does the talking: it signs requests, retries throttling and 5xx with
backoff, switches to multipart uploads for large objects, and finds credentials the way
every AWS tool does (AWS_* variables, the pod's IAM role through IRSA or EKS Pod Identity,
an instance profile). Its calls block, so they run in a worker thread. An S3 PUT is atomic:
readers get the old object, or none, until the new one is complete.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from common.artifacts.base import ArtifactUnavailable

CONNECT_SECONDS = 5.0
READ_SECONDS = 60.0
ATTEMPTS = 3


class S3Store:
    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client: Any = None
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=CONNECT_SECONDS,
                read_timeout=READ_SECONDS,
                retries={"max_attempts": ATTEMPTS, "mode": "standard"},
                # Path-style URLs for S3-compatible servers, which rarely resolve bucket subdomains.
                s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            )
            self._client = boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, config=config)
        return self._client

    def _key(self, key: str) -> str:
        return self.prefix + key

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    async def write(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self.client.upload_fileobj, io.BytesIO(data), self.bucket, self._key(key))

    async def read(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        buffer = io.BytesIO()
        try:
            await asyncio.to_thread(self.client.download_fileobj, self.bucket, self._key(key), buffer)
        except (ClientError, BotoCoreError) as exc:
            raise ArtifactUnavailable(f"{self.location(key)}: {exc}") from exc
        return buffer.getvalue()

    async def aclose(self) -> None:
        if self._client is not None:
            await asyncio.to_thread(self._client.close)
            self._client = None
