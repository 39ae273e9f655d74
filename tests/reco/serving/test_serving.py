"""Serving rules through gRPC on loopback with a real PostgreSQL: hidden items, cold start,
reasons, diversity, the admin catalog RPCs."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
from storyverse.recommendation.v1 import recommendation_service_pb2 as pb

from common.bus import BusMessage
from reco_svc.offline.models import FAMILIES
from reco_svc.offline.training_job import train
from tests.reco.serving.helpers import (
    assert_age_safe,
    eventually,
    kept,
    recommend,
    record,
    served,
    story_event,
    token,
    upsert,
)


def user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


async def ids_for(stub, user_id, age_group="6-8", types=("character",), limit=50, **context) -> list[str]:
    lists = await recommend(stub, user_id, age_group, types, limit=limit, **context)
    return [i.id for i in lists[0].items]


async def test_hidden_items_are_never_recommended_until_unhidden(reco_stub, db, bus):
    t = token()
    await upsert(reco_stub, "universe", f"{t}-sea", 3, 17, tags=["ocean"])
    for n in range(3):
        await upsert(reco_stub, "character", f"{t}-fish-{n}", 3, 17, universe=f"{t}-sea", tags=["ocean"])
    child = user()
    context = {"selected_universes": [f"{t}-sea"]}
    assert f"{t}-fish-0" in await ids_for(reco_stub, child, **context)

    # An admin hides it: gone from the very next answer.
    hidden = await reco_stub.HideCatalogItem(
        pb.HideCatalogItemRequest(kind="character", id=f"{t}-fish-0", reason="reported")
    )
    assert hidden.item.hidden and hidden.item.hidden_reason == "reported"
    for age_group in ("3-5", "6-8", "9-12", "13-17"):
        assert f"{t}-fish-0" not in await ids_for(reco_stub, child, age_group, **context)

    # The feedback service hides one (hidden_items + catalog.visibility): gone at once too.
    await db.execute(
        "INSERT INTO hidden_items (item_type, item_id, reason, hidden_at) "
        "VALUES ('character', $1, 'safety', now())",
        f"{t}-fish-1",
    )
    # A payload the engine does not know: it reloads the catalog from PostgreSQL.
    await bus.publish("catalog.visibility", [BusMessage(b"character", b'{"item_id": "x"}')])

    async def fish_1_gone():
        return f"{t}-fish-1" not in await ids_for(reco_stub, child, **context)

    assert await eventually(fish_1_gone), "a story hidden by moderation is still recommended"
    assert f"{t}-fish-2" in await ids_for(reco_stub, child, **context)

    await reco_stub.UnhideCatalogItem(pb.UnhideCatalogItemRequest(kind="character", id=f"{t}-fish-0"))
    assert f"{t}-fish-0" in await ids_for(reco_stub, child, **context)


async def test_hidden_stories_disappear_from_story_recommendations(reco_stub, analytics_stub, db, bus):
    t = token()
    await upsert(reco_stub, "universe", f"{t}-moon", 3, 17)
    await upsert(reco_stub, "character", f"{t}-rover", 3, 17, universe=f"{t}-moon")
    author = user()
    story = story_event(author, [f"{t}-moon"], [f"{t}-rover"], age_group="6-8", story_id=f"{t}-story")
    await record(analytics_stub, [story])
    reader = user()

    async def story_listed():
        return f"{t}-story" in await ids_for(
            reco_stub, reader, types=("story",), selected_universes=[f"{t}-moon"]
        )

    assert await eventually(story_listed), "a story created from an event was never offered"

    async def not_offered_to_its_author():
        # The same request as the reader's: only the author's own events can keep it out. Those
        # reach the engine's features by their own subscription, maybe after the catalog's.
        return f"{t}-story" not in await ids_for(
            reco_stub, author, types=("story",), selected_universes=[f"{t}-moon"]
        )

    assert await eventually(not_offered_to_its_author), "own story offered"
    await db.execute(
        "INSERT INTO hidden_items (item_type, item_id, reason, hidden_at) "
        "VALUES ('story', $1, 'alert', now())",
        f"{t}-story",
    )
    change = {"item_type": "story", "item_id": f"{t}-story", "hidden": True, "reason": "alert", "at": "now"}
    await bus.publish("catalog.visibility", [BusMessage(f"{t}-story".encode(), json.dumps(change).encode())])

    async def story_gone():
        return f"{t}-story" not in await ids_for(
            reco_stub, reader, types=("story",), selected_universes=[f"{t}-moon"]
        )

    assert await eventually(story_gone)


async def test_cold_start_users_get_their_age_groups_favourites_and_new_items_join(
    reco_stub, analytics_stub, db, settings
):
    t = token()
    await upsert(reco_stub, "universe", f"{t}-jungle", 3, 17, tags=["animals"])
    await upsert(reco_stub, "universe", f"{t}-castle", 9, 17, tags=["knights"])
    await upsert(reco_stub, "character", f"{t}-monkey", 3, 17, universe=f"{t}-jungle", tags=["funny"])
    await upsert(reco_stub, "character", f"{t}-knight", 9, 17, universe=f"{t}-castle", tags=["brave"])
    events = [
        story_event(f"{t}-kid-{n}", [f"{t}-jungle"], [f"{t}-monkey"], age_group="3-5") for n in range(25)
    ] + [story_event(f"{t}-teen-{n}", [f"{t}-castle"], [f"{t}-knight"], age_group="13-17") for n in range(25)]
    await record(analytics_stub, events)
    await kept(db, [e.event_id for e in events])
    model = await train(db, settings)
    # Every training tunes itself; the registry keeps what it chose and why.
    tuning = json.loads(
        await db.fetchval("SELECT tuning FROM reco_model_versions WHERE version = $1", model.version)
    )
    assert tuning["family"] in FAMILIES and tuning["served_params"] and tuning["candidates"] >= 1
    assert "validation nDCG@10" in tuning["reason"] and tuning == model.tuning

    async def served():
        lists = await recommend(reco_stub, user(), "3-5", ["character"])
        return lists[0].model_version == model.version

    assert await eventually(served)

    newcomer = user()
    lists = await recommend(reco_stub, newcomer, "3-5", ["universe", "character", "theme", "story"], limit=5)
    by_type = {x.recommendation_type: x for x in lists}
    top = by_type["character"].items[0]
    assert top.id == f"{t}-monkey", [i.id for i in by_type["character"].items]
    assert top.reason in ("popular at your age", "trending with 3-5 year olds"), top.reason
    assert by_type["universe"].items[0].id == f"{t}-jungle"
    for found in lists:
        assert_age_safe(found.items, "3-5")
        assert f"{t}-knight" not in [i.id for i in found.items]

    teen = await recommend(reco_stub, user(), "13-17", ["character"], limit=3)
    assert teen[0].items[0].id == f"{t}-knight"

    # A character added after training is offered to a child who picked its universe.
    await upsert(reco_stub, "character", f"{t}-parrot", 3, 17, universe=f"{t}-jungle", tags=["funny"])
    found = await recommend(
        reco_stub, user(), "3-5", ["character"], limit=5, selected_universes=[f"{t}-jungle"]
    )
    parrot = [i for i in found[0].items if i.id == f"{t}-parrot"]
    assert parrot, [i.id for i in found[0].items]
    assert parrot[0].reason.startswith("new"), parrot[0].reason


async def test_reasons_name_what_the_child_picked(reco_stub, analytics_stub, db, settings):
    t = token()
    await upsert(reco_stub, "universe", f"{t}-saiyan", 6, 17)
    await upsert(reco_stub, "universe", f"{t}-toys", 3, 17)
    await upsert(reco_stub, "character", f"{t}-goku", 6, 17, name=f"Goku {t}", universe=f"{t}-saiyan")
    await upsert(reco_stub, "character", f"{t}-woody", 3, 17, name=f"Woody {t}", universe=f"{t}-toys")
    await upsert(reco_stub, "character", f"{t}-rex", 3, 17, name=f"Rex {t}", universe=f"{t}-toys")
    together = [story_event(f"{t}-fan-{n}", [], [f"{t}-goku", f"{t}-woody"]) for n in range(30)]
    await record(analytics_stub, together)
    await kept(db, [e.event_id for e in together])
    model = await train(db, settings)

    async def served():
        return (await recommend(reco_stub, user(), "6-8"))[0].model_version == model.version

    assert await eventually(served)
    lists = await recommend(
        reco_stub, user(), "6-8", ["character"], limit=5, selected_characters=[f"{t}-goku"]
    )
    items = lists[0].items
    assert all(i.reason for i in items)
    assert items[0].id == f"{t}-woody", [(i.id, i.reason) for i in items]
    assert f"Goku {t}" in items[0].reason, items[0].reason
    assert f"{t}-goku" not in [i.id for i in items], "an already selected item was recommended"


async def test_no_more_than_two_characters_of_one_universe_unless_asked(reco_stub, db, settings):
    t = token()
    await upsert(reco_stub, "universe", f"{t}-big", 6, 17, tags=["heroes"])
    for n in range(8):
        await upsert(reco_stub, "character", f"{t}-hero-{n}", 6, 17, universe=f"{t}-big", tags=["heroes"])
    for u in range(4):
        await upsert(reco_stub, "universe", f"{t}-small-{u}", 6, 17)
        await upsert(
            reco_stub, "character", f"{t}-solo-{u}", 6, 17, universe=f"{t}-small-{u}", tags=["heroes"]
        )
    model = await train(db, settings)  # the heroes are in the model, linked by universe and tags
    assert await eventually(served(reco_stub, model.version))
    child = user()

    def heroes(found) -> int:
        return sum(i.universes[0] == f"{t}-big" for i in found[0].items)

    picked = await recommend(
        reco_stub, child, "9-12", ["character"], limit=5, selected_characters=[f"{t}-hero-0"]
    )
    assert len(picked[0].items) == 5
    # At most two of the big universe (none is possible: the session's catalog holds other
    # tests' popular characters); that the heroes do score high shows below, once asked for.
    assert heroes(picked) <= 2, [(i.id, i.score) for i in picked[0].items]

    asked = await recommend(reco_stub, child, "9-12", ["character"], limit=5, selected_universes=[f"{t}-big"])
    assert heroes(asked) >= 3, [(i.id, i.score) for i in asked[0].items]


async def test_themes_route_mixes_themes_and_moral_lessons(reco_stub):
    t = token()
    await upsert(reco_stub, "theme", f"{t}-courage", 3, 17)
    await upsert(reco_stub, "moral_lesson", f"{t}-sharing", 3, 17)
    reply = await reco_stub.ListRecommendations(
        pb.ListRecommendationsRequest(kind="themes", user_id=user(), age_group="3-5", limit=50)
    )
    kinds = {i.kind for i in reply.list.items}
    assert kinds == {"theme", "moral_lesson"}, kinds
    assert reply.list.recommendation_type == "theme"


async def test_admin_catalog_rpcs_validate_and_page(reco_stub):
    t = token()
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await upsert(reco_stub, "character", f"{t}-orphan", universe=f"{t}-nowhere")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await upsert(reco_stub, "universe", f"{t}-old", 12, 8)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await reco_stub.HideCatalogItem(pb.HideCatalogItemRequest(kind="universe", id=f"{t}-missing"))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND

    created = await reco_stub.UpsertCatalogItem(
        pb.UpsertCatalogItemRequest(kind="universe", id=f"{t}-new", name="New", min_age=6, max_age=12)
    )
    assert created.created and created.item.source == "admin"
    changed = await reco_stub.UpsertCatalogItem(
        pb.UpsertCatalogItemRequest(kind="universe", id=f"{t}-new", name="Renamed", min_age=6, max_age=12)
    )
    assert not changed.created and changed.item.name == "Renamed"
    got = await reco_stub.GetCatalogItem(pb.GetCatalogItemRequest(kind="universe", id=f"{t}-new"))
    assert (got.item.min_age, got.item.max_age) == (6, 12)

    seen, token_ = [], ""
    while True:
        page = await reco_stub.ListCatalogItems(
            pb.ListCatalogItemsRequest(kind="universe", age_group="6-8", page_size=2, page_token=token_)
        )
        seen += [i.id for i in page.items]
        assert all(i.min_age <= 6 and i.max_age >= 8 for i in page.items)
        token_ = page.next_page_token
        if not token_:
            break
    assert f"{t}-new" in seen and len(seen) == len(set(seen))
