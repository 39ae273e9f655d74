"""The two ways to reach Storyverse Insights: the HTTP gateway (JSON) and the gRPC services.

Both take and give the same JSON-shaped dicts (the contract's field names, as the gateway
writes them), and both raise `SendError`, whose `retryable` says whether sending the same
request again may succeed (connection refused or reset, 429 / RESOURCE_EXHAUSTED, 502, 503 /
UNAVAILABLE, 504 / DEADLINE_EXCEEDED) and `retry_after` the server's hint in seconds.
"""

from __future__ import annotations

import gzip
import http.client
import json
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

# Bodies at least this long are sent gzip-compressed over HTTP.
COMPRESS_BYTES = 1024
RETRYABLE_HTTP = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_GRPC = frozenset({"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "ABORTED", "UNKNOWN"})

EVENTS_BATCH = "/api/analytics/events:batch"
RECOMMEND = "/api/recommendations"
FEEDBACK = "/api/feedback"


class SendError(Exception):
    """A request that did not succeed. `status`: the HTTP status or gRPC code name ("connection"
    when no answer came); `details`: [{"field", "description"}] for refused input."""

    def __init__(
        self,
        message: str,
        *,
        status: str | int,
        retryable: bool,
        retry_after: float | None = None,
        details: list[dict] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.details = details or []


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < 3600 else None


class HttpTransport:
    """Through the HTTP gateway: `HttpTransport("http://127.0.0.1:8080", api_key=...)`.

    One keep-alive connection per thread; request bodies of COMPRESS_BYTES and more are
    gzip-compressed, replies are asked for compressed."""

    def __init__(
        self, base_url: str, *, api_key: str | None = None, timeout: float = 10.0, compress: bool = True
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._compress = compress
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()  # every thread's, for close()

    def record_events(self, events: list[dict]) -> dict:
        return self._call("POST", EVENTS_BATCH, {"events": events}).get("result", {})

    def recommend(self, request: dict) -> dict:
        return self._call("POST", RECOMMEND, request)

    def submit_feedback(self, entry: dict) -> dict:
        return self._call("POST", FEEDBACK, entry)

    def get(self, path: str, query: dict[str, Any] | None = None) -> dict:
        return self._call("GET", path + ("?" + urlencode(query, doseq=True) if query else ""), None)

    def close(self) -> None:
        """Close every thread's connection (a thread that calls again opens a new one)."""
        with self._lock:
            for connection in self._open:
                connection.close()
            self._open.clear()

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()
            with self._lock:
                self._open.discard(connection)

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = self._local.connection = kind(self._host, self._port, timeout=self._timeout)
            with self._lock:
                self._open.add(connection)
        return connection

    def _call(self, method: str, path: str, body: dict | None) -> dict:
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip"}
        if self._api_key:
            headers["X-Api-Key"] = self._api_key
        data = None
        if body is not None:
            try:
                data = json.dumps(body, separators=(",", ":")).encode()
            except (TypeError, ValueError) as exc:  # a value JSON cannot hold (a datetime, NaN...)
                raise SendError(f"not JSON: {exc}", status="INVALID_ARGUMENT", retryable=False) from None
            headers["Content-Type"] = "application/json"
            if self._compress and len(data) >= COMPRESS_BYTES:
                data = gzip.compress(data, 5)
                headers["Content-Encoding"] = "gzip"
        try:
            connection = self._connection()
            connection.request(method, self._prefix + path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._drop_connection()  # a fresh connection next time
            raise SendError(
                f"no answer from the gateway: {exc!r}", status="connection", retryable=True
            ) from exc
        if response.getheader("Connection", "").lower() == "close":
            self._drop_connection()
        if response.getheader("Content-Encoding", "") == "gzip":
            raw = gzip.decompress(raw)
        try:
            reply = json.loads(raw) if raw else {}
        except ValueError:
            reply = {"message": raw[:200].decode(errors="replace")}
        if response.status == 200:
            return reply
        raise SendError(
            f"HTTP {response.status}: {reply.get('message', '')}",
            status=response.status,
            retryable=response.status in RETRYABLE_HTTP,
            retry_after=_retry_after(response.getheader("Retry-After")),
            details=reply.get("details") if isinstance(reply, dict) else None,
        )


class GrpcTransport:
    """Straight to the services over gRPC (needs the `grpc` extra: grpcio, protobuf).

        GrpcTransport("127.0.0.1:50051", reco_target="127.0.0.1:50052", feedback_target="...:50053")

    `credentials`: grpc.ChannelCredentials for TLS; `api_key` goes in the x-api-key metadata."""

    def __init__(
        self,
        analytics_target: str,
        *,
        reco_target: str | None = None,
        feedback_target: str | None = None,
        api_key: str | None = None,
        timeout: float = 10.0,
        credentials: Any = None,
    ) -> None:
        import grpc

        from storyverse_client import _contract

        self._grpc = grpc
        self._contract = _contract
        self._timeout = timeout
        self._metadata = (("x-api-key", api_key),) if api_key else ()
        self._channels: dict[str, Any] = {}
        self._credentials = credentials
        self._targets = {
            "analytics": analytics_target,
            "reco": reco_target or analytics_target,
            "feedback": feedback_target or analytics_target,
        }
        self._calls = {
            "events": self._method("analytics", _contract.RECORD_EVENTS),
            "recommend": self._method("reco", _contract.RECOMMEND),
            "feedback": self._method("feedback", _contract.SUBMIT_FEEDBACK),
        }

    def _method(self, backend: str, method: Any) -> Any:
        target = self._targets[backend]
        channel = self._channels.get(target)
        if channel is None:
            if self._credentials is not None:
                channel = self._grpc.secure_channel(target, self._credentials)
            else:
                channel = self._grpc.insecure_channel(target)
            self._channels[target] = channel
        request_class, response_class = self._contract.classes(method)
        return method, channel.unary_unary(
            self._contract.path(method),
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )

    def record_events(self, events: list[dict]) -> dict:
        return self._call("events", {"events": events}).get("result", {})

    def recommend(self, request: dict) -> dict:
        return self._call("recommend", request)

    def submit_feedback(self, entry: dict) -> dict:
        return self._call("feedback", {"feedback": entry})

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def _call(self, name: str, body: dict) -> dict:
        method, call = self._calls[name]
        try:
            request = self._contract.to_message(method, body)
        except Exception as exc:  # json_format.ParseError and the raw errors it lets through
            raise SendError(f"INVALID_ARGUMENT: {exc}", status="INVALID_ARGUMENT", retryable=False) from None
        try:
            reply = call(request, timeout=self._timeout, metadata=self._metadata)
        except self._grpc.RpcError as exc:
            code = exc.code().name if exc.code() is not None else "UNKNOWN"
            trailers = dict(exc.trailing_metadata() or ())
            raise SendError(
                f"{code}: {exc.details()}",
                status=code,
                retryable=code in RETRYABLE_GRPC,
                retry_after=_retry_after(trailers.get("retry-after")),
                details=self._contract.field_violations(trailers),
            ) from None
        return self._contract.to_dict(reply)
