"""A fresh selection changes the next answer for that user at once, without retraining."""

from __future__ import annotations

import uuid

from tests.reco.serving.helpers import (
    eventually,
    recommend,
    record,
    story_event,
    token,
    upsert,
)


async def test_a_new_pick_changes_the_next_answer_with_a_reason(reco_stub, analytics_stub):
    t = token()
    await upsert(reco_stub, "universe", f"{t}-space", 6, 17, tags=["space"])
    for u in range(4):  # their characters sort ahead of the space ones while nothing is known
        await upsert(reco_stub, "universe", f"{t}-farm-{u}", 6, 17, tags=["animals"])
        for n in range(2):
            await upsert(
                reco_stub,
                "character",
                f"{t}-a-animal-{u}-{n}",
                6,
                17,
                universe=f"{t}-farm-{u}",
                tags=["animals"],
            )
    await upsert(reco_stub, "character", f"{t}-zz-astro", 6, 17, universe=f"{t}-space", tags=["explorer"])
    await upsert(reco_stub, "character", f"{t}-zz-comet", 6, 17, universe=f"{t}-space", tags=["explorer"])
    user = f"user-{uuid.uuid4().hex[:8]}"

    before = await recommend(reco_stub, user, "6-8", ["character"], limit=5)
    before_ids = [i.id for i in before[0].items]
    assert f"{t}-zz-comet" not in before_ids

    await record(analytics_stub, [story_event(user, [], [f"{t}-zz-astro"])])

    async def changed():
        lists = await recommend(reco_stub, user, "6-8", ["character"], limit=5)
        ids = [i.id for i in lists[0].items]
        return lists if ids != before_ids and f"{t}-zz-comet" in ids else None

    after = await eventually(changed)
    assert after, f"the answer did not change after the pick: {before_ids}"
    comet = next(i for i in after[0].items if i.id == f"{t}-zz-comet")
    assert "Astro" in comet.reason, comet.reason
    assert after[0].model_version and after[0].variant == "control" and after[0].request_id
