"""Typed helpers (recommendations, feedback) against the real services, over both transports;
the package's own metadata and contract file."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from storyverse_client import Client, GrpcTransport, HttpTransport, RecommendationList, SendError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "storyverse_client"


@pytest.fixture(params=["http", "grpc"])
def client(request, gateway_url, analytics, reco, feedback):
    if request.param == "http":
        transport = HttpTransport(gateway_url)
    else:
        transport = GrpcTransport(
            f"127.0.0.1:{analytics.port}",
            reco_target=f"127.0.0.1:{reco.port}",
            feedback_target=f"127.0.0.1:{feedback.port}",
        )
    made = Client(transport)
    yield made
    made.close()


async def test_recommend_gives_typed_lists_in_the_order_asked(client):
    import asyncio

    lists = await asyncio.to_thread(
        client.recommend, "user-789012", "6-8", types=["universe", "character"], limit=3
    )
    assert [lst.recommendation_type for lst in lists] == ["universe", "character"]
    assert all(isinstance(lst, RecommendationList) for lst in lists)
    for lst in lists:
        assert len(lst.items) <= 3
        for item in lst.items:
            assert item.id and isinstance(item.score, float)


async def test_recommend_without_a_valid_age_group_raises_naming_the_field(client):
    import asyncio

    with pytest.raises(SendError) as caught:
        await asyncio.to_thread(client.recommend, "user-789012", "99-100")
    assert not caught.value.retryable
    assert any(d["field"].endswith("age_group") for d in caught.value.details), caught.value.details


async def test_feedback_is_stored_once_per_feedback_id(client):
    import asyncio

    feedback_id = f"fb-{uuid.uuid4().hex[:12]}"
    first = await asyncio.to_thread(
        client.submit_feedback, "user-789012", "story-123456", 5, comment="Loved it", feedback_id=feedback_id
    )
    again = await asyncio.to_thread(
        client.submit_feedback, "user-789012", "story-123456", 5, comment="Loved it", feedback_id=feedback_id
    )
    assert first.feedback_id == again.feedback_id == feedback_id
    assert first.created and not again.created


def test_the_shipped_contract_is_current():
    sys.path.insert(0, str(PACKAGE))
    try:
        import make_contract
    finally:
        sys.path.remove(str(PACKAGE))
    assert make_contract.TARGET.read_bytes() == make_contract.descriptor_set(), (
        "run: PYTHONPATH=.:gen python storyverse_client/make_contract.py"
    )


def test_the_package_builds_alone_and_needs_only_the_standard_library_for_http(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps"]
    if importlib.util.find_spec("setuptools") is not None:  # else pip fetches it to build
        pip.append("--no-build-isolation")
    subprocess.run([*pip, "-w", tmp_path, source], check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("storyverse_client-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
        archive.extractall(tmp_path / "site")
    assert "storyverse_client/contract.binpb" in names
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and all('extra == "grpc"' in line for line in requires), requires
    # -S: no site-packages at all (no grpcio, no protobuf): the HTTP side still imports and works.
    check = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from storyverse_client import HttpTransport, Tracker;"
        "t = Tracker(HttpTransport('http://127.0.0.1:9'), flush_at_exit=False); t.close(0.1)"
    )
    subprocess.run([sys.executable, "-S", "-c", check, str(tmp_path / "site")], check=True, cwd=tmp_path)
