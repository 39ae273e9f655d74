"""What users do, day by day: sessions, browsing, the story funnel, recommendations, feedback.

The simulation walks the days of the window; on each day every user comes back
with a probability that decays with the age of their account, runs one or more
sessions, and in each session may go down the story funnel

    session_start -> story_started -> story_creation -> story_view -> story_completed -> story_shared

with a drop-off at each step. With `library_reads` above 0, children also read stories other
children of their age group made (the library), and how they read them follows their hidden
taste: a story they like is read to the end and, later, read again; one they do not is abandoned
early (a low `position`, the percent read); one in between is left halfway and may be continued
in a later session. These readings draw from a stream of their own, so a run without them is
unchanged. Content is drawn from the user's hidden
preferences (population.py), so the events carry a learnable signal. All the
randomness comes from per-user `random.Random` streams keyed by the seed: the
same seed, start date and `now` give the same events; the population (users and
their tastes) depends on the seed alone.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from analytics_svc.experiments.assignment import Arm, Rules, assign, exposure_event_id
from simulator.catalog import Catalog, load_catalog
from simulator.feedback import StoryFacts, write_feedback
from simulator.goals import hidden_goals
from simulator.population import User, build_population, global_popularity, normalise

# The metrics an experiment can move, each a probability in the model.
EXPERIMENT_METRICS = (
    "return",
    "story_started",
    "story_creation",
    "story_completed",
    "story_shared",
    "recommendation_clicked",
    "feedback_submitted",
)
FEATURES = {
    "voice_narration": 3.0,
    "illustration_style": 2.0,
    "read_aloud": 1.5,
    "story_library": 2.0,
    "print_story": 0.5,
    "parental_controls": 0.7,
    "dark_mode": 0.6,
}
PAGES = ("home", "library", "create", "settings", "profile", "discover")
BUTTONS = ("next", "back", "pick_universe", "pick_character", "shuffle", "save", "read")
ILLUSTRATION_STYLES = ("watercolour", "cartoon", "comic", "storybook")
# The model_version the carousel's events quote: the simulated popularity baseline, not a
# version of the recommendation service (whose lists quote their own).
CAROUSEL_MODEL_VERSION = "popularity-baseline"
# Hours of the day (UTC, for simplicity) when children use the app, as weights.
HOUR_WEIGHTS = [0, 0, 0, 0, 0, 0, 1, 3, 3, 2, 2, 2, 3, 3, 3, 5, 7, 8, 9, 9, 7, 4, 1, 0]
# Number of universes mixed in a story (1, 2 or 3) per age group.
MIX_WEIGHTS = {
    "3-5": (0.70, 0.25, 0.05),
    "6-8": (0.50, 0.35, 0.15),
    "9-12": (0.42, 0.38, 0.20),
    "13-17": (0.48, 0.35, 0.17),
}
# Median seconds to create a story, per age group.
CREATION_MEDIAN = {"3-5": 420.0, "6-8": 360.0, "9-12": 480.0, "13-17": 600.0}


@dataclass(frozen=True)
class Experiment:
    """An A/B test with a KNOWN true effect, so analyses can be checked against the truth.

    Users are split by the service's own assignment (analytics_svc.experiments.assignment: salt = key,
    weights 1 - share and share, all traffic), so an experiment created through the API
    with those variants and weights assigns every simulated user to the same variant as
    GetAssignments would. From `start_day` on, a user's first session logs
    `experiment_exposure` (with the service's idempotent event id) and, in the treatment,
    the probability behind `metric` is multiplied by (1 + effect).
    """

    key: str
    metric: str
    effect: float
    share: float = 0.5
    variants: tuple[str, str] = ("control", "treatment")
    start_day: int = 0

    def __post_init__(self) -> None:
        if self.metric not in EXPERIMENT_METRICS:
            raise ValueError(f"metric must be one of {EXPERIMENT_METRICS}")

    @property
    def rules(self) -> Rules:
        return Rules(self.key, (Arm(self.variants[0], 1 - self.share), Arm(self.variants[1], self.share)))

    def variant_of(self, user: User) -> str:
        return assign(self.rules, user.user_id) or self.variants[0]


@dataclass(frozen=True)
class SimConfig:
    """The knobs of the behaviour model; probabilities unless said otherwise."""

    story_start: float = 0.72  # a session starts a story
    creation: float = 0.78  # a started story gets created
    view: float = 0.92  # a created story gets read
    completion: float = 0.70  # a read story is read to the end (scaled by taste)
    share: float = 0.12  # a completed story is shared
    another_story: float = 0.22  # after a story, start another in the same session
    recommendation_shown: float = 0.60  # a session shows a carousel of recommendations
    recommendation_click: float = 0.12  # base click chance of a shown item (scaled by taste)
    feedback: float = 0.20  # a parent rates a completed story (the app asks after the last page)
    extra_sessions: float = 0.35  # mean extra sessions on an active day (Poisson)
    retention_floor: float = 0.25  # share of the return probability kept for good
    retention_days: float = 7.0  # time constant of the decay of returns, in days
    weekend_boost: float = 1.15
    exploration: float = 0.15  # share of choices made outside the user's tastes
    goal_pull: float = 0.0  # a story's moral lesson is one of the parent's hidden goals (goals.py)
    library_reads: float = 0.0  # mean readings of other children's stories per session (Poisson)
    reread: float = 0.3  # a library reading is a re-read of a story loved before (when there is one)
    resume: float = 0.5  # ... else the continuation of a story left halfway (when there is one)
    experiments: tuple[Experiment, ...] = ()


@dataclass
class Story:
    story_id: str
    universes: list[str]
    characters: list[str]
    theme: str
    moral_lesson: str
    creation_time: float


@dataclass
class DayBatch:
    day: date
    events: list[dict] = field(default_factory=list)
    feedback: list[dict] = field(default_factory=list)


def fmt(ts: datetime) -> str:
    # Whole seconds, as in the seed's example event (order within a second is kept by the stream).
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Simulation:
    """One simulated population over a window of days ending no later than `now`."""

    def __init__(
        self,
        users: int,
        days: int,
        seed: int,
        start_date: date | None = None,
        now: datetime | None = None,
        config: SimConfig | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.now = now or datetime.now(UTC)
        self.days = days
        self.start_date = start_date or (self.now.date() - timedelta(days=days - 1))
        self.config = config or SimConfig()
        self.catalog = catalog or load_catalog()
        self.population = build_population(users, days, seed, self.catalog)
        # Behaviour streams are keyed by the window too: a rerun on another day makes new
        # events (new ids) for the same users, while a rerun of the same window replays them.
        self._rngs = {
            u.index: random.Random(f"{seed}:{self.start_date}:behaviour:{u.index}") for u in self.population
        }
        self.popularity = global_popularity(seed, self.catalog)
        # Parents' hidden educational goals, per user index (simulator/goals.py).
        self.goals = {u.index: hidden_goals(seed, u, self.catalog) for u in self.population}
        self._names = self.catalog.by_id()
        # The library: stories made so far, per age group (read when library_reads > 0), and each
        # child's readings of them: story id -> (completed, percent read, affinity).
        self.library: dict[str, list[Story]] = {}
        self.readings: dict[int, dict[str, tuple[bool, float, float]]] = {}
        self._library_rngs = {
            u.index: random.Random(f"{seed}:{self.start_date}:library:{u.index}") for u in self.population
        }
        self._exposed: set[tuple[str, str]] = set()
        self._variants: dict[tuple[str, str], str] = {}
        self._ran = False

    # -- the day loop -------------------------------------------------------------------

    def run(self) -> Iterator[DayBatch]:
        """Day by day, events and feedback in time order; nothing after `now`. Runs once."""
        if self._ran:
            raise RuntimeError("a Simulation runs once; make a new one (same seed) to replay it")
        self._ran = True
        pending = DayBatch(self.start_date)
        for offset in range(self.days):
            day = self.start_date + timedelta(days=offset)
            day_start = datetime.combine(day, time(), UTC)
            if day_start > self.now:
                break
            for user in self.population:
                if self._active(user, offset, day):
                    self._user_day(user, offset, day_start, pending)
            # Sessions may run past midnight: hold back what belongs to the next day.
            yield self._release(pending, day_start + timedelta(days=1), day)
        yield self._release(pending, datetime.max.replace(tzinfo=UTC), pending.day)

    def _release(self, pending: DayBatch, before: datetime, day: date) -> DayBatch:
        out = DayBatch(day)
        for name in ("events", "feedback"):
            items = sorted(getattr(pending, name), key=lambda x: x["_sort"])
            keep = [x for x in items if x["_sort"][0] >= before]
            for x in items:
                if x["_sort"][0] < before:
                    del x["_sort"]
                    getattr(out, name).append(x)
            setattr(pending, name, keep)
        return out

    def _active(self, user: User, offset: int, day: date) -> bool:
        if offset < user.signup_day:
            return False
        if offset == user.signup_day:
            return True  # the sign-up day itself
        account_age = offset - user.signup_day
        c = self.config
        decay = c.retention_floor + (1 - c.retention_floor) * math.exp(-(account_age - 1) / c.retention_days)
        p = user.base_return * decay * self._lift(user, offset, "return")
        if day.weekday() >= 5:
            p *= c.weekend_boost
        return self._rngs[user.index].random() < min(p, 0.98)

    def _lift(self, user: User, offset: int, metric: str) -> float:
        """The hook for A/B experiments: the multiplier on a metric's probability for this user."""
        lift = 1.0
        for exp in self.config.experiments:
            if (
                exp.metric == metric
                and offset >= exp.start_day
                and self.variant(exp, user) == exp.variants[1]
            ):
                lift *= 1.0 + exp.effect
        return lift

    def variant(self, exp: Experiment, user: User) -> str:
        key = (exp.key, user.user_id)
        if key not in self._variants:
            self._variants[key] = exp.variant_of(user)
        return self._variants[key]

    # -- one user's day -----------------------------------------------------------------

    def _user_day(self, user: User, offset: int, day_start: datetime, out: DayBatch) -> None:
        rng = self._rngs[user.index]
        sessions = 1 + poisson(rng, self.config.extra_sessions)
        starts = sorted(
            day_start + timedelta(hours=h, seconds=rng.uniform(0, 3600))
            for h in rng.choices(range(24), weights=HOUR_WEIGHTS, k=sessions)
        )
        not_before = day_start
        for start in starts:
            start = max(start, not_before)
            session = _SessionWriter(self, user, offset, start)
            session.run()
            if session.clock > self.now:
                continue  # would end in the future: this session has not happened yet
            out.events.extend(session.events)
            out.feedback.extend(session.feedback)
            not_before = session.clock + timedelta(minutes=rng.randint(20, 180))


class _SessionWriter:
    """Writes the events of one session, advancing its own clock."""

    def __init__(self, sim: Simulation, user: User, offset: int, start: datetime) -> None:
        self.sim, self.user, self.offset = sim, user, offset
        self.rng = sim._rngs[user.index]
        self.cfg = sim.config
        self.clock = start
        self.session_id = f"ss-{self.rng.getrandbits(48):012x}"
        self.events: list[dict] = []
        self.feedback: list[dict] = []
        self.narrated = False

    def p(self, base: float, metric: str | None = None) -> bool:
        lift = self.sim._lift(self.user, self.offset, metric) if metric else 1.0
        return self.rng.random() < min(base * lift, 0.99)

    def tick(self, low: float, high: float) -> None:
        self.clock += timedelta(seconds=self.rng.uniform(low, high))

    def emit(self, event_type: str, **props: object) -> None:
        u = self.user
        properties = {"device_type": u.device_type, "platform": u.platform, "age_group": u.age_group.key}
        properties.update({k: v for k, v in props.items() if v is not None})
        self.events.append(
            {
                "event_id": f"ev-{self.rng.getrandbits(64):016x}",
                "user_id": u.user_id,
                "timestamp": fmt(self.clock),
                "event_type": event_type,
                "properties": properties,
                "session_id": self.session_id,
                "_sort": (self.clock, u.index, len(self.events)),
            }
        )

    def run(self) -> None:
        start = self.clock
        self.emit("session_start", app_version=self.user.app_version)
        self.tick(1, 4)
        self.emit("page_view", page="home")
        self._exposures()
        picked = self._recommendations() if self.p(self.cfg.recommendation_shown) else None
        self._browse()
        if self.p(self.cfg.story_start, "story_started"):
            self._story(picked)
            while self.p(self.cfg.another_story, "story_started"):
                self._story(None)
        if self.cfg.library_reads > 0:
            self._library()
        self.tick(3, 30)
        self.emit("session_end", duration=round((self.clock - start).total_seconds(), 1))

    def _exposures(self) -> None:
        for exp in self.cfg.experiments:
            key = (exp.key, self.user.user_id)
            if self.offset >= exp.start_day and key not in self.sim._exposed:
                self.sim._exposed.add(key)
                self.emit(
                    "experiment_exposure", experiment_key=exp.key, variant=self.sim.variant(exp, self.user)
                )
                # The id the service gives this exposure (the random one is drawn all the same,
                # so the other events of the stream do not change).
                self.events[-1]["event_id"] = exposure_event_id(exp.key, self.user.user_id)

    def _browse(self) -> None:
        for _ in range(self.rng.randint(0, 3)):
            self.tick(2, 25)
            page = self.rng.choice(PAGES)
            self.emit("page_view", page=page)
            self.tick(1, 10)
            self.emit("click", page=page, extras={"button": self.rng.choice(BUTTONS)})
        if self.rng.random() < 0.45:
            self.tick(2, 20)
            feature = self.rng.choices(list(FEATURES), weights=list(FEATURES.values()))[0]
            self.narrated = self.narrated or feature in ("voice_narration", "read_aloud")
            self.emit("feature_used", feature=feature)

    def _recommendations(self) -> str | None:
        """A carousel from today's unpersonalised recommender; clicks follow the hidden taste.

        The baseline shows 4 of the 6 most popular age-appropriate universes, so a
        personalised model has room to beat it.
        """
        prefs = self.user.preferences.universes
        popularity = self.sim.popularity
        allowed = [u.id for u in self.sim.catalog.universes if u.suits(self.user.age_group)]
        shown = sorted(allowed, key=popularity.__getitem__, reverse=True)[:6]
        self.rng.shuffle(shown)
        shown = shown[:4]
        self.tick(1, 3)
        for position, item in enumerate(shown):
            self.emit(
                "recommendation_shown",
                recommendation_type="universe",
                item_id=item,
                position=position,
                model_version=CAROUSEL_MODEL_VERSION,
            )
        for position, item in enumerate(shown):
            taste = (prefs[item] * len(prefs)) ** 0.7
            chance = self.cfg.recommendation_click * taste / (1 + 0.3 * position)
            if self.p(chance, "recommendation_clicked"):
                self.tick(2, 15)
                self.emit(
                    "recommendation_clicked",
                    recommendation_type="universe",
                    item_id=item,
                    position=position,
                    model_version=CAROUSEL_MODEL_VERSION,
                )
                return item
        return None

    # -- the story funnel ---------------------------------------------------------------

    def _story(self, forced_universe: str | None) -> None:
        rng, cfg = self.rng, self.cfg
        story_id = f"st-{rng.getrandbits(48):012x}"
        self.tick(2, 15)
        self.emit("page_view", page="create")
        self.emit("story_started", story_id=story_id)
        if not self.p(cfg.creation, "story_creation"):
            self.tick(20, 240)  # gave up while creating
            return
        story = self._compose(story_id, forced_universe)
        if self.cfg.library_reads > 0:
            self.sim.library.setdefault(self.user.age_group.key, []).append(story)
        self.clock += timedelta(seconds=story.creation_time)
        self.emit(
            "story_creation",
            story_id=story_id,
            universes=story.universes,
            characters=story.characters,
            theme=story.theme,
            moral_lesson=story.moral_lesson,
            creation_time=story.creation_time,
            extras={"pages": rng.randint(4, 16), "illustration_style": rng.choice(ILLUSTRATION_STYLES)},
        )
        if not self.p(cfg.view):
            return
        affinity = self.user.preferences.affinity(story.universes, story.theme, story.moral_lesson)
        completes = self.p(cfg.completion * (0.75 + 0.25 * min(affinity, 1.6)), "story_completed")
        full = rng.lognormvariate(math.log(240), 0.4)
        share = 1.0 if completes else rng.uniform(0.1, 0.6)
        reading = full * share
        self.tick(1, 5)
        self.emit("story_view", story_id=story_id, duration=round(reading, 1), position=round(100 * share))
        self.clock += timedelta(seconds=reading)
        if completes:
            self.emit("story_completed", story_id=story_id)
            if self.p(cfg.share * (1.3 if affinity > 1.5 else 1.0), "story_shared"):
                self.tick(3, 20)
                self.emit("story_shared", story_id=story_id)
        fb_chance = cfg.feedback if completes else cfg.feedback * 0.4
        if self.p(fb_chance, "feedback_submitted"):
            self._feedback(story, completes, affinity)

    # -- the library: other children's stories --------------------------------------------

    def _library(self) -> None:
        rng = self.sim._library_rngs[self.user.index]
        mine = self.sim.readings.setdefault(self.user.index, {})
        shelf = self.sim.library.get(self.user.age_group.key, [])
        by_id = {s.story_id: s for s in shelf}
        for _ in range(poisson(rng, self.cfg.library_reads)):
            loved = [i for i, (done, _, a) in mine.items() if done and a > 1.0]
            halfway = [i for i, (done, at, _) in mine.items() if not done and at >= 25]
            if loved and rng.random() < self.cfg.reread:
                self._read(rng, by_id[rng.choice(sorted(loved))], mine, again=True)
            elif halfway and rng.random() < self.cfg.resume:
                self._read(rng, by_id[rng.choice(sorted(halfway))], mine)
            else:
                fresh = [s for s in rng.sample(shelf, min(len(shelf), 12)) if s.story_id not in mine]
                if not fresh:
                    continue
                prefs = self.user.preferences
                weights = [0.5 + prefs.affinity(s.universes, s.theme, s.moral_lesson) for s in fresh]
                self._read(rng, rng.choices(fresh, weights=weights)[0], mine)

    def _read(self, rng: random.Random, story: Story, mine: dict, again: bool = False) -> None:
        """One reading of a library story: how far the child gets follows the hidden taste."""
        affinity = self.user.preferences.affinity(story.universes, story.theme, story.moral_lesson)
        done, start, _ = mine.get(story.story_id, (False, 0.0, affinity))
        start = 0.0 if again or done else start
        if again or rng.random() < min(0.95, max(0.05, 0.55 * affinity - 0.05)):
            position = 100
        elif rng.random() < min(0.9, max(0.1, 1.15 - 0.6 * affinity)):
            position = round(rng.uniform(max(start, 2.0), max(start, 2.0) + 20.0))
        else:
            position = round(rng.uniform(max(start, 30.0), 90.0))
        position = min(position, 100)
        reading = rng.lognormvariate(math.log(240), 0.4) * max(position - start, 2.0) / 100.0
        self.tick(5, 40)
        self.emit("story_view", story_id=story.story_id, duration=round(reading, 1), position=position)
        self.clock += timedelta(seconds=reading)
        if position >= 100:
            self.emit("story_completed", story_id=story.story_id)
        mine[story.story_id] = (done or position >= 100, float(position), affinity)

    def _pick(self, weights: dict[str, float], k: int = 1, first: str | None = None) -> list[str]:
        """k distinct items by taste, with some exploration; `first` is taken first when given."""
        mixed = normalise(
            {
                i: (1 - self.cfg.exploration) * w + self.cfg.exploration / len(weights)
                for i, w in weights.items()
            }
        )
        picked = [first] if first in mixed else []
        while len(picked) < min(k, len(mixed)):
            rest = {i: w for i, w in mixed.items() if i not in picked}
            picked.append(self.rng.choices(list(rest), weights=list(rest.values()))[0])
        return picked

    def _compose(self, story_id: str, forced_universe: str | None) -> Story:
        rng, user = self.rng, self.user
        prefs = user.preferences
        count = rng.choices((1, 2, 3), weights=MIX_WEIGHTS[user.age_group.key])[0]
        universes = self._pick(prefs.universes, count, forced_universe)
        characters: list[str] = []
        for universe in universes:
            per = 1 if rng.random() < 0.55 else 2
            characters += self._pick(prefs.characters[universe], per)
        median = CREATION_MEDIAN[user.age_group.key] * (1 + 0.25 * (len(universes) - 1))
        creation_time = min(5400.0, max(20.0, rng.lognormvariate(math.log(median), 0.5)))
        return Story(
            story_id=story_id,
            universes=universes,
            characters=characters,
            theme=self._pick(prefs.themes)[0],
            moral_lesson=self._lesson(),
            creation_time=round(creation_time, 1),
        )

    def _lesson(self) -> str:
        """By taste; or, with probability goal_pull, one of the parent's goals (no draw at 0)."""
        goals = self.sim.goals[self.user.index]
        if goals and self.cfg.goal_pull > 0 and self.rng.random() < self.cfg.goal_pull:
            return self.rng.choice(goals)
        return self._pick(self.user.preferences.moral_lessons)[0]

    def _feedback(self, story: Story, completed: bool, affinity: float) -> None:
        facts = StoryFacts(
            story_id=story.story_id,
            universes=story.universes,
            character_names=[self.sim._names[c].name for c in story.characters],
            universe_names=[self.sim._names[u].name for u in story.universes],
            completed=completed,
            affinity=affinity,
            creation_time=story.creation_time,
            narrated=self.narrated,
        )
        rating, comment, categories = write_feedback(self.rng, self.user.child_age, facts)
        self.tick(10, 120)
        self.emit("feedback_submitted", story_id=story.story_id)
        user = self.user
        entry = {
            "feedback_id": f"fb-{self.rng.getrandbits(48):012x}",
            "user_id": user.user_id,
            "story_id": story.story_id,
            "timestamp": fmt(self.clock),
            "rating": rating,
            "comment": comment,
            "categories": categories,
            "child_age": user.child_age,
            "device_type": user.device_type,
            "platform": user.platform,
            "_sort": (self.clock, user.index, len(self.events)),
        }
        if not comment:
            del entry["comment"]
        self.feedback.append(entry)


def generate(
    users: int,
    days: int,
    seed: int,
    start_date: date | None = None,
    now: datetime | None = None,
    config: SimConfig | None = None,
) -> Iterator[dict]:
    """The events of a simulated population, as the app's JSON (dicts), in time order."""
    for batch in Simulation(users, days, seed, start_date, now, config).run():
        yield from batch.events


def generate_feedback(
    users: int,
    days: int,
    seed: int,
    start_date: date | None = None,
    now: datetime | None = None,
    config: SimConfig | None = None,
) -> Iterator[dict]:
    """The feedback entries of the same simulation (same arguments, same stories), in time order."""
    for batch in Simulation(users, days, seed, start_date, now, config).run():
        yield from batch.feedback
