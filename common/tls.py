"""Optional (mutual) TLS between our processes.

    credentials = server_credentials(settings)   # None: plaintext, the laptop default
    channel = open_channel(target, settings)     # secure when SV_TLS_CA_FILE is set

Server: SV_TLS_CERT_FILE + SV_TLS_KEY_FILE turn TLS on; adding SV_TLS_CA_FILE makes
it mutual (a client must present a certificate signed by that CA). Client (the
gateway, internal callers): SV_TLS_CA_FILE verifies the server; its own
SV_TLS_CERT_FILE/KEY_FILE are presented as the client certificate.
"""

from __future__ import annotations

import grpc

from common.settings import Settings


def _read(path: object) -> bytes | None:
    return None if path is None else open(path, "rb").read()  # noqa: SIM115 - tiny files, read once


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    if not (settings.tls_cert_file and settings.tls_key_file):
        return None
    ca = _read(settings.tls_ca_file)
    return grpc.ssl_server_credentials(
        [(_read(settings.tls_key_file), _read(settings.tls_cert_file))],
        root_certificates=ca,
        require_client_auth=ca is not None,
    )


def channel_credentials(settings: Settings) -> grpc.ChannelCredentials | None:
    if settings.tls_ca_file is None:
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=_read(settings.tls_ca_file),
        private_key=_read(settings.tls_key_file),
        certificate_chain=_read(settings.tls_cert_file),
    )


def open_channel(target: str, settings: Settings, **kwargs) -> grpc.aio.Channel:
    credentials = channel_credentials(settings)
    if credentials is None:
        return grpc.aio.insecure_channel(target, **kwargs)
    return grpc.aio.secure_channel(target, credentials, **kwargs)
