"""Mutual TLS between services, and the API key command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.bus.inprocess import InProcessBus
from common.grpc_server import start
from common.settings import REPO_ROOT
from common.tls import open_channel


def openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=d)  # fmt: skip
    for name in ("server", "client", "stranger"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)  # fmt: skip
        (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        ca = ("-CA", "ca.crt", "-CAkey", "ca.key") if name != "stranger" else ("-signkey", "stranger.key")
        openssl("x509", "-req", "-in", f"{name}.csr", *ca, "-CAcreateserial", "-days", "2",
                "-extfile", "san.ext", "-out", f"{name}.crt", cwd=d)  # fmt: skip
    return d


async def health(channel) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return reply.status


async def test_mutual_tls_admits_only_clients_with_a_certificate_of_our_ca(settings, pki):
    from feedback_svc.service import SPEC

    server_settings = replace(
        settings,
        tls_cert_file=pki / "server.crt",
        tls_key_file=pki / "server.key",
        tls_ca_file=pki / "ca.crt",
    )
    bus = InProcessBus()
    service = await start(SPEC, server_settings, 0, bus)
    target = f"127.0.0.1:{service.port}"
    try:
        client = replace(settings, tls_cert_file=pki / "client.crt", tls_key_file=pki / "client.key",
                         tls_ca_file=pki / "ca.crt")  # fmt: skip
        async with open_channel(target, client) as channel:
            assert await health(channel) == health_pb2.HealthCheckResponse.SERVING
        for refused in (
            settings,  # plaintext
            replace(settings, tls_ca_file=pki / "ca.crt"),  # TLS without a client certificate
            replace(client, tls_cert_file=pki / "stranger.crt", tls_key_file=pki / "stranger.key"),
        ):
            async with open_channel(target, refused) as channel:
                with pytest.raises(grpc.aio.AioRpcError) as failure:
                    await health(channel)
                assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await service.stop(grace=1)


def run_cli(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SV_DATABASE_URL": settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "common.apikeys", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def test_the_command_line_creates_lists_and_revokes_keys(settings, db):
    created = run_cli(settings, "create", "--scopes", "ingest,read", "--name", "cli-demo")
    assert created.returncode == 0, created.stderr
    key_id = created.stdout.split()[2]
    token = created.stdout.splitlines()[1]
    assert token.startswith(f"sv_{key_id}_")
    listed = run_cli(settings, "list")
    assert key_id in listed.stdout and "ingest,read" in listed.stdout and token not in listed.stdout
    assert run_cli(settings, "revoke", key_id).returncode == 0
    assert "revoked" in run_cli(settings, "list").stdout
    assert run_cli(settings, "revoke", key_id).returncode == 1
    bad = run_cli(settings, "create", "--scopes", "root", "--name", "x")
    assert bad.returncode == 2 and "scopes must be" in bad.stderr
