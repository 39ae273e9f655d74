"""A fresh selection changes the next answer for that user at once, without retraining."""

from __future__ import annotations

import uuid

from reco_svc.offline.training_job import train
from tests.reco.serving.helpers import eventually, kept, recommend, record, served, story_event, token, upsert


async def test_a_new_pick_changes_the_next_answer_with_a_reason(reco_stub, analytics_stub, db, settings):
    t = token()
    await upsert(reco_stub, "universe", f"{t}-space", 6, 17, tags=["space"])
    await upsert(reco_stub, "character", f"{t}-zz-astro", 6, 17, name=f"Astro {t}", universe=f"{t}-space")
    await upsert(reco_stub, "character", f"{t}-zz-comet", 6, 17, name=f"Comet {t}", universe=f"{t}-space")
    # Older children often put Astro and Comet in one story: the model learns the link. They are
    # 9-12, so neither character is popular with the 6-8 year olds the test user belongs to.
    together = [
        story_event(f"{t}-fan-{n}", [], [f"{t}-zz-astro", f"{t}-zz-comet"], age_group="9-12")
        for n in range(20)
    ]
    await record(analytics_stub, together)
    await kept(db, [e.event_id for e in together])
    model = await train(db, settings)
    assert await eventually(served(reco_stub, model.version))

    child = f"user-{uuid.uuid4().hex[:8]}"
    await recommend(reco_stub, child, "6-8", ["character"], limit=5)  # the history read, stored
    # This one reuses the features decoded for it (features/shared.py, Decoded): the pick below
    # must still reach the next answer.
    before = await recommend(reco_stub, child, "6-8", ["character"], limit=5)
    before_ids = [i.id for i in before[0].items]
    assert f"{t}-zz-comet" not in before_ids

    # The child picks Astro in a story: the event travels analytics -> bus -> features.
    await record(analytics_stub, [story_event(child, [], [f"{t}-zz-astro"], age_group="6-8")])

    async def changed():
        lists = await recommend(reco_stub, child, "6-8", ["character"], limit=5)
        ids = [i.id for i in lists[0].items]
        return lists if f"{t}-zz-comet" in ids else None

    after = await eventually(changed)
    assert after, f"the answer did not change after the pick: {before_ids}"
    assert after[0].model_version == model.version, "it changed through a retraining, not the live features"
    comet = next(i for i in after[0].items if i.id == f"{t}-zz-comet")
    assert f"Astro {t}" in comet.reason, comet.reason
    assert after[0].variant == "control" and after[0].request_id != before[0].request_id
