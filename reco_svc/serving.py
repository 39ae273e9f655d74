"""Serving: from a request to age-safe, diverse, explained lists.

For each request:
0. the experiment variant (experiments.py): which model and ranking options serve this child
   (the active model and diversity on, outside a running recommendation experiment);
1. the user's vector x: decayed interactions from the feature store (history read from
   PostgreSQL on first sight, then live from the bus) plus what the request says the child
   picked right now (selected universes/characters, previous themes, current story), plus
   the context inputs: popularity and trending of the age group, popularity on the device;
2. one onnxruntime call for all requested types: scores x @ W, `allowed` mask, TopK. The
   mask is 0 for other kinds, items outside the age group, hidden items and what is already
   selected (or the child's own stories);
3. items newer than the model join through the attribute model (tags, universe);
4. a final filter applies the same rules again to whatever came out (the age rule is
   checked against the live catalog, not the model's copy of it);
5. the lean toward the child's educational goals (goals.py: themes, moral lessons, stories),
   then diversity (diversity.py), then reasons (reasons.py; goals.py for items the lean moved);
6. story lists: "continue where you stopped" and "read again" from how the child read
   (reading_candidates.py), a small share of the list, through the same final filter.
"""

from __future__ import annotations

import math
import time
import uuid
import weakref
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np

from common import metrics
from reco_svc import attributes, reasons, store
from reco_svc.age_rules import allowed as age_allowed
from reco_svc.artifact import LoadedModel
from reco_svc.catalog import CatalogEntry, CatalogSnapshot, key_of
from reco_svc.catalog_state import CatalogState
from reco_svc.diversity import pick_diverse
from reco_svc.experiments import Choice, VariantAssigner
from reco_svc.features.shared import SharedFeatures
from reco_svc.features.user import UserFeatures
from reco_svc.goals import LEANING_KINDS, Goal, GoalBook, lean
from reco_svc.interactions import HISTORY_DAYS, PICK_WEIGHTS, EventFacts, interactions_of
from reco_svc.model_assembly import ATTR_WEIGHT
from reco_svc.model_watch import ModelHolder
from reco_svc.reading import ReadingWeights
from reco_svc.reading_candidates import cap as reading_cap
from reco_svc.reading_candidates import reading_picks

DEFAULT_LIMIT = 5
SCORE_DECIMALS = 6  # scores in answers are rounded to this many places
HISTORY_EVENTS = 200
NEW_ITEMS_SCORED = 300
OWN_STORY_EVENTS = frozenset({"story_creation", "story_completed"})


@dataclass(frozen=True)
class Request:
    user_id: str
    age_group: str
    types: tuple[str, ...]
    limit: int = DEFAULT_LIMIT
    selected_universes: tuple[str, ...] = ()
    selected_characters: tuple[str, ...] = ()
    previous_themes: tuple[str, ...] = ()
    current_story_id: str = ""
    device_type: str = ""

    def picks(self) -> dict[str, float]:
        """What the child is picking right now, valued like a fresh story_creation pick."""
        found = {}
        for kind, ids in (
            ("universe", self.selected_universes),
            ("character", self.selected_characters),
            ("theme", self.previous_themes),
        ):
            for item_id in ids:
                found[key_of(kind, item_id)] = math.log1p(PICK_WEIGHTS[kind])
        if self.current_story_id:
            found[key_of("story", self.current_story_id)] = math.log1p(PICK_WEIGHTS["character"])
        return found


@dataclass
class Scored:
    entry: CatalogEntry
    score: float
    reason: str = ""
    # index in the model (None: newer than the model, scored by attributes)
    index: int | None = None
    reason_input: str | None = None


@dataclass
class RecList:
    type: str
    items: list[Scored]
    model_version: str
    variant: str
    request_id: str
    experiment_key: str = ""


@dataclass
class Timings:
    """Recent onnxruntime call durations (seconds), for the benchmark and the logs."""

    inference: deque = field(default_factory=lambda: deque(maxlen=100_000))


def passes(entry: CatalogEntry | None, kind: str, age_group: str, excluded: set[str]) -> bool:
    """The final filter: right kind, suits the whole age group, not hidden, not already selected."""
    return (
        entry is not None
        and entry.kind == kind
        and not entry.hidden
        and age_allowed(entry.min_age, entry.max_age, age_group)
        and entry.key not in excluded
    )


@dataclass(frozen=True)
class Scope:
    """What one answer is computed against: the model and catalog it started with, the rules of
    the request (age group, excluded items)."""

    model: LoadedModel
    snapshot: CatalogSnapshot
    generation: int
    age_group: str
    excluded: set[str]


class MaskCache:
    """`allowed` vectors per (kind, age group) for each (model, catalog generation): the
    active model's and, during an experiment, its variants' (at most MAX_OWNERS kept)."""

    MAX_OWNERS = 4

    def __init__(self) -> None:
        # (id of the model, generation) -> (weak reference to the model, masks, new items): the
        # reference tells a model from a later one at the same address, without keeping it alive.
        self._owners: dict[tuple, tuple[weakref.ref, dict, dict]] = {}
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self._new_items: dict[str, attributes.AttributeIndex] = {}

    def _check(self, model: LoadedModel, generation: int) -> None:
        owner = (id(model), generation)
        found = self._owners.get(owner)
        if found is None or found[0]() is not model:
            self._owners.pop(owner, None)
            if len(self._owners) >= self.MAX_OWNERS:
                del self._owners[next(iter(self._owners))]
            found = self._owners[owner] = (weakref.ref(model), {}, {})
        _, self._masks, self._new_items = found

    def base(self, model: LoadedModel, snapshot: CatalogSnapshot, generation: int, kind: str, group: str):
        self._check(model, generation)
        mask = self._masks.get((kind, group))
        if mask is None:
            mask = np.zeros(model.n_inputs, dtype=np.float32)
            for i, key in enumerate(model.items):
                k, _, item_id = key.partition(":")
                if k == kind and passes(snapshot.get(k, item_id), kind, group, set()):
                    mask[i] = 1.0
            self._masks[(kind, group)] = mask
        return mask

    def new_items(
        self, model: LoadedModel, snapshot: CatalogSnapshot, generation: int, kind: str
    ) -> attributes.AttributeIndex:
        """Catalog items of this kind the model does not know (added since it was trained).

        The most recent NEW_ITEMS_SCORED only: stories made since the last training can be many.
        """
        self._check(model, generation)
        found = self._new_items.get(kind)
        if found is None:
            fresh = [e for e in snapshot.of_kind(kind) if e.key not in model.index and not e.hidden]
            found = attributes.AttributeIndex(fresh[-NEW_ITEMS_SCORED:])
            self._new_items[kind] = found
        return found


class Recommender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        catalog: CatalogState,
        models: ModelHolder,
        features: SharedFeatures,
        variants: VariantAssigner,
        goals: GoalBook | None = None,
    ) -> None:
        self.pool = pool
        self.goals = goals
        self.catalog = catalog
        self.models = models
        self.features = features
        self.variants = variants
        self.masks = MaskCache()
        self.timings = Timings()

    async def features_for(self, user_id: str) -> UserFeatures:
        features = await self.features.get(user_id)
        if self.features.degraded:
            # Shared features are unreachable (Redis down): answer from popularity and the
            # request's picks rather than read every user's history from PostgreSQL per call.
            return UserFeatures(loaded=True)
        if features is not None and features.loaded:
            return features
        since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
        erased_at = self.features.erased_at(user_id)
        if erased_at is not None:  # nothing from before the user's erasure, whatever is still stored
            since = max(since, erased_at + timedelta(microseconds=1))
        loaded = UserFeatures(loaded=True)
        for row in reversed(await store.user_events(self.pool, user_id, since, HISTORY_EVENTS)):
            facts = EventFacts.from_row(row)
            loaded.add(facts, interactions_of(facts))
        await self.features.put(user_id, loaded)
        return loaded

    async def variant_of(self, request: Request) -> tuple[Choice, LoadedModel]:
        """The child's experiment variant and the model that serves it."""
        choice = await self.variants.choose(request.user_id, request.age_group, request.device_type)
        model = choice.model or self.models.current
        assert model is not None, "the model holder starts before serving"
        return choice, model

    async def recommend(self, request: Request) -> list[RecList]:
        """variant -> features -> masks -> top-k -> filtering (with items newer than the model)
        -> goals -> diversity -> reasons, each step below."""
        choice, model = await self.variant_of(request)
        features = await self.features_for(request.user_id)
        snapshot, generation = self.catalog.snapshot, self.catalog.generation

        values, x, written = input_vector(model, request, features)
        excluded = excluded_items(request, features)
        kinds = requested_kinds(request.types)
        flat = [k for group in kinds for k in group]
        scope = Scope(model, snapshot, generation, request.age_group, excluded)
        scores, indices = self._top_k(model, x, written, self._masks(scope, flat), request.limit)
        ranked = {
            kind: self._filtered(scope, kind, values, scores[row], indices[row])
            for row, kind in enumerate(flat)
        }
        leaning = self.goals is not None and any(kind in LEANING_KINDS for kind in flat)
        goals = await self.goals.of(request.user_id) if leaning else []
        moved = toward_goals(ranked, goals, request.limit)

        request_id = uuid.uuid4().hex
        inputs = explaining_inputs(x, written)
        lists = []
        for requested, group in zip(request.types, kinds, strict=True):
            chosen = diverse(request, [ranked[k] for k in group], choice.diversity)
            for item in chosen:
                if id(item) in moved:
                    item.reason = moved[id(item)].reason()
            explain(chosen, model, x, inputs, snapshot)
            if requested == "story":
                chosen = with_reading(request, chosen, features, snapshot)
            lists.append(
                RecList(requested, chosen, model.version, choice.variant, request_id, choice.experiment_key)
            )
        return lists

    def _masks(self, scope: Scope, kinds: list[str]) -> np.ndarray:
        """One `allowed` row per kind: the kind's items that suit the age group and are not
        hidden, minus what is excluded for this request."""
        model = scope.model
        masks = np.empty((len(kinds), model.n_inputs), dtype=np.float32)
        excluded = [i for i in map(model.index.get, scope.excluded) if i is not None]
        for row, kind in enumerate(kinds):
            masks[row] = self.masks.base(model, scope.snapshot, scope.generation, kind, scope.age_group)
            masks[row, excluded] = 0.0
        return masks

    def _top_k(
        self, model: LoadedModel, x: np.ndarray, written: np.ndarray, masks: np.ndarray, limit: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """One onnxruntime call for every kind: scores and item indices, best first (-1: none)."""
        k = min(model.n_items, max(limit * 6, 30))
        if k <= 0:
            empty = np.zeros((len(masks), 0))
            return empty, empty
        started = time.perf_counter()
        scores, indices = model.topk(x, masks, k, nonzero=written[x[written] != 0])
        elapsed = time.perf_counter() - started
        self.timings.inference.append(elapsed)
        metrics.INFERENCE_LATENCY.record(elapsed, {"model": model.version})
        return scores, indices

    def _filtered(
        self, scope: Scope, kind: str, values: dict[str, float], scores: np.ndarray, indices: np.ndarray
    ) -> list[Scored]:
        """The model's candidates that pass the final filter against the live catalog, plus the
        items newer than the model, best first."""
        found: list[Scored] = []
        # Model items are catalog keys ("kind:id"): looked up as such in the live snapshot.
        items, entries = scope.model.items, scope.snapshot.entries
        for value, index in zip(scores.tolist(), indices.tolist(), strict=True):
            if index < 0:
                continue
            entry = entries.get(items[index])
            if passes(entry, kind, scope.age_group, scope.excluded):
                found.append(Scored(entry, value, index=index))
        found += self._new_items(scope, kind, values)
        found.sort(key=lambda s: (-s.score, s.entry.id))
        return found

    def _new_items(self, scope: Scope, kind: str, values: dict[str, float]) -> list[Scored]:
        """Items newer than the model, scored through the attribute model."""
        model, snapshot = scope.model, scope.snapshot
        index = self.masks.new_items(model, snapshot, scope.generation, kind)
        if not index.entries:
            return []
        picked = [(snapshot.get(*key.split(":", 1)), v) for key, v in values.items()]
        picked = [(e, v) for e, v in picked if e is not None]
        contributions = model.input_weights.get("attr", ATTR_WEIGHT) * index.contributions(picked)
        scores = contributions.sum(axis=0) if picked else np.zeros(len(index.entries), dtype=np.float32)
        found = []
        for n, entry in enumerate(index.entries):
            if not passes(entry, kind, scope.age_group, scope.excluded):
                continue
            best = int(np.argmax(contributions[:, n])) if picked else -1
            score = float(scores[n])
            if has_signal(score) and contributions[best, n] > 0:
                reason = reasons.for_new_item(picked[best][0].key, snapshot)
            else:
                reason = reasons.FALLBACK
            found.append(Scored(entry, score, reason))
        return found


def explain(
    chosen: list[Scored], model: LoadedModel, x: np.ndarray, inputs: np.ndarray, snapshot: CatalogSnapshot
) -> None:
    """The reason of each model-scored item without one yet: the input that contributed most
    (x_i × W_ij), W read once for all of them."""
    pending = [item for item in chosen if item.index is not None and not item.reason]
    explained = []
    for item in pending:
        if inputs.size == 0 or not has_signal(item.score):
            item.reason = reasons.FALLBACK  # nothing to name: the item only fills the list
        else:
            explained.append(item)
    if not explained:
        return
    weights = model.weights_into_many(inputs, [item.index for item in explained])
    contributions = x[inputs] * weights
    for item, row, into in zip(explained, contributions, weights, strict=True):
        best = int(np.argmax(row))
        if row[best] <= 0:
            item.reason = reasons.FALLBACK
            continue
        source = int(inputs[best])
        name = model.contexts[source - model.n_items] if source >= model.n_items else model.items[source]
        # into[best] is W[source, item] (model.weight), already read
        mostly_cooc = (
            source < model.n_items and model.cooc_weight(source, item.index) >= 0.5 * float(into[best]) > 0
        )
        item.reason_input = name
        item.reason = reasons.from_input(name, item.entry, snapshot, mostly_cooc)


def input_vector(
    model: LoadedModel, request: Request, features: UserFeatures
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """The user's values per item (decayed history, raised to the request's picks), the model's
    input vector x (those values plus the age group's and the device's context inputs) and the
    indices set in x, ascending (x is 0 elsewhere: no scan of x needed to find its inputs)."""
    values = features.vector(datetime.now(UTC), ReadingWeights.from_inputs(model.input_weights))
    for key, value in request.picks().items():
        values[key] = max(values.get(key, 0.0), value)
    device = request.device_type or features.device_type
    x = np.zeros(model.n_inputs, dtype=np.float32)
    n_items, index = model.n_items, model.index
    items: dict[int, float] = {}  # x's item inputs, set below in one assignment
    for key, value in values.items():
        i = index.get(key)
        if i is not None and i < n_items:
            items[i] = value
    written = list(items)
    x[written] = list(items.values())
    for name, weight_key in (
        (f"pop:{request.age_group}", "pop"),
        (f"trend:{request.age_group}", "trend"),
        (f"device:{device}" if device else "", "device"),
    ):
        if name in index:
            x[index[name]] = model.input_weights.get(weight_key, 0.0)
            written.append(index[name])
    return values, x, np.unique(np.asarray(written, dtype=np.int64))


def excluded_items(request: Request, features: UserFeatures) -> set[str]:
    """Never recommended in this answer: what the child is picking now, the child's own stories
    and finished ones (read-again picks aside: with_reading) and stories it abandoned early."""
    excluded = set(request.picks())
    excluded.update(
        i.key
        for interactions in features.events.values()
        for i in interactions
        if i.key.startswith("story:") and (i.event_type in OWN_STORY_EVENTS or i.signal == "abandon")
    )
    return excluded


def with_reading(
    request: Request, chosen: list[Scored], features: UserFeatures, snapshot: CatalogSnapshot
) -> list[Scored]:
    """The story list with the child's continue / read-again picks first (at most
    reading_candidates.cap(limit)), each through the final filter (the age rule included)."""
    now = datetime.now(UTC)
    current = set(request.picks())
    found: list[Scored] = []
    top = max((s.score for s in chosen), default=0.0)
    for pick in reading_picks(features, now):
        if len(found) >= reading_cap(request.limit):
            break
        kind, _, story_id = pick.key.partition(":")
        entry = snapshot.get(kind, story_id)
        if passes(entry, "story", request.age_group, current):
            found.append(Scored(entry, top, pick.reason))
    if not found:
        return chosen
    keys = {s.entry.key for s in found}
    return (found + [s for s in chosen if s.entry.key not in keys])[: request.limit]


def toward_goals(ranked: dict[str, list[Scored]], goals: list[Goal], limit: int) -> dict[int, Goal]:
    """The lean toward the child's goals (goals.py), in place, on the lists of themes, moral
    lessons and stories; the items it moved up, with their goal."""
    moved: dict[int, Goal] = {}
    if not goals:
        return moved
    for kind, candidates in ranked.items():
        if kind in LEANING_KINDS:
            ranked[kind], found = lean(candidates, goals, limit, lambda s: s.entry)
            moved.update(found)
    return moved


def requested_kinds(types: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The catalog kinds of each requested type: "themes" is themes and moral lessons."""
    return [("theme", "moral_lesson") if t == "themes" else (t,) for t in types]


def explaining_inputs(x: np.ndarray, written: np.ndarray) -> np.ndarray:
    """The inputs switched on in x (items, then contexts: ascending indices), among those
    input_vector set: the candidates for a reason."""
    return written[x[written] > 0]


def diverse(request: Request, ranked: list[list[Scored]], spread: bool = True) -> list[Scored]:
    """The list of one requested type: its kinds interleaved, then at most `limit` items spread
    over universes (the universes the child selected are exempt); spread False (an experiment's
    variant without diversity): the first `limit` as ranked."""
    candidates = _interleave(ranked) if len(ranked) > 1 else ranked[0]
    if not spread:
        return candidates[: request.limit]
    return pick_diverse(
        candidates, request.limit, lambda s: s.entry.universe_ids, exempt=request.selected_universes
    )


def has_signal(score: float) -> bool:
    """Whether a score shows anything contributed: above 0 at the precision answers carry
    (server.py rounds to 6 places), so a reason never stands beside a score of 0.0."""
    return round(score, SCORE_DECIMALS) > 0


def _interleave(lists: list[list[Scored]]) -> list[Scored]:
    """Themes and moral lessons alternate in the /themes list (a story takes one of each)."""
    out: list[Scored] = []
    for row in zip(*lists, strict=False):
        out.extend(row)
    longest = max((len(x) for x in lists), default=0)
    shortest = min((len(x) for x in lists), default=0)
    for extra in lists:
        out.extend(extra[shortest:longest])
    return out
