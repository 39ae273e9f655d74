"""Automatic tuning inside every training: the model family and its hyper-parameters.

    model, choice = tune(train, budget_seconds=60)

1. **Validation from the training part only.** `train` is all this module sees; its pairs are
   split again per item, 75/25, into a fit part and a validation part, up to three times
   (VALIDATION_SEEDS); a candidate's score is its mean nDCG@10 over the folds: three while
   they are cheap (the first candidate's first two folds took at most THIRD_FOLD_SHARE of the
   budget: on small data the search converges in a third of it, and a third fold makes the
   choice less noisy), else two, or one when the first fold already took SECOND_FOLD_SHARE.
   An evaluation's test part is never passed here (tests/reco/test_tuning.py proves the choice
   does not depend on it).
2. **Families.** Every family of models.FAMILIES that fits the catalog (the dense EASE family up
   to MAX_DENSE_ITEMS items; the timed family, session EASE, only when the pairs' `times` are
   given) is scored at its prior; the best one is then refined one hyper-parameter at a time
   along its grid (a coordinate search: a step is kept while the
   score rises by at least MIN_GAIN). Fitted parts are cached, so changing a blend weight or
   the other part's setting does not refit a part.
3. **Budget.** Before each candidate the time it needs (from the fits so far) and the final fit
   (from the slowest fit of each of its parts so far) are added to the time spent; when that
   would pass the budget the search stops. Above
   PROBE_ABOVE training pairs the search runs on a sample of users sized to the budget, so the
   first candidate fits in it too: the first family's prior is scored on one fold of a probe
   sample of PROBE_PAIRS pairs, timed; the search moves to the sample that FIRST_SHARE of the
   budget buys for every family's prior on every fold at the probe's seconds per pair (an
   overestimate: part of a fit's time does not grow with the pairs) when that is more than
   the probe, else stays on the probe (one fold). The final fit of a sampled search is
   not counted in the budget (on such data it cannot be). Validation scores at most
   VALIDATION_CELLS user x item cells (a fixed sample of the validation users).
4. **Final fit.** The chosen configuration is fitted on the whole training part, its l2 scaled
   to the larger data (the normalized Gram grows as data^(1 - 2 alpha)).

5. **Reading weights.** Given reco_svc.signal_matrix.SignalPairs with reading signals, the
   weight of each (reading.SIGNALS: view, reading time, completion, re-read, early abandon) is
   chosen between the family scoring and the refinement: DEFAULT and UNIFORM are scored with the
   best family at its prior, then one coordinate pass over reading.GRID from the better of the
   two, under the same budget and folds (a weight changes the input matrix, so every candidate
   refits). Validation targets are the held-out pairs that show taste whatever the weights
   (signal_matrix: picks, completions, re-reads...), so no weight can make targets of its own.
   The hyper-parameters are then refined on the matrix of the chosen weights.

`choice.record()` is what the registry keeps and `python -m reco_svc.evaluate` prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from reco_svc.offline.evaluation import ranking_metrics
from reco_svc.offline.models import FAMILIES, Family
from reco_svc.offline.models.base import ItemItemModel
from reco_svc.offline.models.ease import MAX_DENSE_ITEMS
from reco_svc.offline.splits import per_item_split
from reco_svc.reading import DEFAULT, GRID, SIGNALS, UNIFORM, ReadingWeights
from reco_svc.signal_matrix import SignalPairs

DEFAULT_BUDGET_SECONDS = 60.0
VALIDATION_SEEDS = (1, 2, 3)
# Folds a search on a sample of a large data set is sized for (the third is never cheap there).
SAMPLED_FOLDS = 2
# A move is kept only when the folds' mean nDCG@K rises by this much (less is noise: one fold of
# MovieLens-100k has a standard error of about 0.004).
MIN_GAIN = 0.001
# When the first candidate's first fold has used this share of the budget, one fold is used;
# when its first two have used more than THIRD_FOLD_SHARE, two.
SECOND_FOLD_SHARE = 0.3
THIRD_FOLD_SHARE = 0.05
PROBE_ABOVE = 500_000
PROBE_PAIRS = 100_000
FIRST_SHARE = 0.5
VALIDATION_CELLS = 300_000_000
SCALE_SAMPLE_USERS = 1000
K = 10
# Hyper-parameters visited first: the cheap ones (no refit of the costly part) lead.
SEARCH_ORDER = (
    "weight",
    "rank",
    "exponent",
    "l2",
    "alpha",
    "tau",
    "floor",
    "rating",
    "neighbours",
    "beta",
    "walk_alpha",
    "walk_neighbours",
)


@dataclass(frozen=True)
class Trial:
    family: str
    params: dict[str, float]
    ndcg: float
    seconds: float


@dataclass
class Choice:
    family: str
    params: dict[str, float]
    validation_ndcg: float
    prior_ndcg: float
    budget_seconds: float
    trials: list[Trial] = field(default_factory=list)
    considered: dict[str, str] = field(default_factory=dict)
    tuning_seconds: float = 0.0
    fit_seconds: float = 0.0
    sampled_users: int | None = None
    stopped: str = ""
    folds: int = len(VALIDATION_SEEDS)
    reading: ReadingWeights | None = None  # None: no reading signal in the data
    reading_ndcg: dict[str, float] = field(default_factory=dict)  # default, uniform, chosen

    def reason(self) -> str:
        gain = self.validation_ndcg - self.prior_ndcg
        sample = f" on a sample of {self.sampled_users} users" if self.sampled_users else ""
        return (
            f"{self.family}: best validation nDCG@{K} {self.validation_ndcg:.4f} of {len(self.trials)} "
            f"candidates ({gain:+.4f} over its prior){sample}; validation = 25% of each item's "
            f"training pairs (mean of seeds {', '.join(map(str, VALIDATION_SEEDS[: self.folds]))}); "
            f"{self.stopped}; "
            f"{self.tuning_seconds:.1f} s of a {self.budget_seconds:g} s budget"
        )

    def record(self) -> dict[str, object]:
        """JSON for the registry row and the evaluation output."""
        reading = {}
        if self.reading is not None:
            reading = {
                "reading_weights": self.reading.as_dict(),
                "reading_validation_ndcg@10": {k: round(v, 5) for k, v in self.reading_ndcg.items()},
            }
        return {
            **reading,
            "family": self.family,
            "params": self.params,
            "validation_ndcg@10": round(self.validation_ndcg, 5),
            "prior_validation_ndcg@10": round(self.prior_ndcg, 5),
            "candidates": len(self.trials),
            "families": self.considered,
            "tuning_seconds": round(self.tuning_seconds, 3),
            "final_fit_seconds": round(self.fit_seconds, 3),
            "budget_seconds": self.budget_seconds,
            "reason": self.reason(),
        }


def validation_split(
    train: sp.csr_matrix, seed: int = VALIDATION_SEEDS[0]
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The training pairs split per item, 75/25: (fit part, validation part)."""
    coo = sp.csr_matrix(train).tocoo()
    fit_mask, valid_mask = per_item_split(coo.col, seed=seed)

    def part(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=train.shape)

    return part(fit_mask), part(valid_mask)


def sample_users(train: sp.csr_matrix, max_pairs: int, seed: int = 0) -> tuple[sp.csr_matrix, int | None]:
    """Rows of a random sample of users holding about max_pairs pairs (all when fewer)."""
    if train.nnz <= max_pairs:
        return train, None
    order = np.random.default_rng(seed).permutation(train.shape[0])
    counts = np.diff(train.indptr)[order]
    chosen = np.sort(order[: int(np.searchsorted(np.cumsum(counts), max_pairs)) + 1])
    return sp.csr_matrix(train[chosen]), len(chosen)


class _Composed:
    """A blend assembled from cached fitted parts (scored, never fitted)."""

    def __init__(self, parts: list[tuple[float, ItemItemModel]]) -> None:
        self.parts = parts

    def score(self, rows: sp.csr_matrix) -> np.ndarray:
        return np.asarray(sum(f * model.score(rows) for f, model in self.parts), dtype=np.float32)


class _Search:
    """Candidates scored on every validation fold (mean nDCG@K), fitted parts cached per fold."""

    def __init__(self, folds_of, weights: ReadingWeights | None, budget: float, started: float) -> None:
        # The folds of the input matrix made with given reading weights (None: no reading signal).
        self.folds_of = folds_of
        self._folds: dict[ReadingWeights | None, list] = {}
        self.weights = weights
        self.n_folds = len(VALIDATION_SEEDS)
        self.budget, self.started = budget, started
        self.parts: dict[tuple, tuple[ItemItemModel, float]] = {}  # fitted part, its mean |score|
        self.part_seconds: dict[str, float] = {}  # one fit of a part kind on one fold
        # The slowest such fit: the final fit's estimate (on a shared machine a fit's time
        # varies several-fold; the final fit comes last, with nothing left to absorb an excess).
        self.slowest_part: dict[str, float] = {}
        self.score_seconds = 0.0
        self.trials: list[Trial] = []
        self.seen: dict[tuple, float] = {}

    @property
    def folds(self) -> list[tuple]:
        """(fit, validation, sample of fit's users, fit's times or None, fit's ratings or None)."""
        found = self._folds.setdefault(self.weights, [])
        if len(found) < self.n_folds:  # built as needed: a third fold is often never used
            for fit, valid, times, ratings in self.folds_of(self.weights, len(found), self.n_folds):
                rows = fit.shape[0]
                pick = np.sort(
                    np.random.default_rng(0).choice(rows, min(rows, SCALE_SAMPLE_USERS), replace=False)
                )
                found.append((fit, valid, fit[pick], times, ratings))
        return found[: self.n_folds]

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def cost(self, family: Family, params: dict[str, float]) -> float:
        """Seconds a candidate needs: the fits of parts not cached, plus scoring."""
        seconds = self.score_seconds
        # A part kind not fitted yet is guessed to cost as much as the costliest one fitted.
        unknown = max(self.part_seconds.values(), default=0.0)
        for fold in range(self.n_folds):
            for key in family.part_params(params):
                if (self.weights, fold, key) not in self.parts:
                    seconds += self.part_seconds.get(key[0], unknown)
        return seconds

    def final_fit(self, family: Family, params: dict[str, float], ratio: float) -> float:
        return sum(self.slowest_part.get(part, 0.0) for part, _ in family.part_params(params)) * ratio

    def _part(self, fold: int, key: tuple) -> tuple[ItemItemModel, float]:
        found = self.parts.get((self.weights, fold, key))
        if found is None:
            from reco_svc.offline.models import PARTS

            fit, _, sample, times, ratings = self.folds[fold]
            started = time.perf_counter()
            model = PARTS[key[0]](*key[1])
            if getattr(model, "uses_times", False):
                model = model.fit(fit, times=times, ratings=ratings)
            else:
                model = model.fit(fit)
            self.part_seconds[key[0]] = time.perf_counter() - started
            self.slowest_part[key[0]] = max(self.slowest_part.get(key[0], 0.0), self.part_seconds[key[0]])
            scale = float(np.abs(model.score(sample)).mean()) or 1.0
            found = self.parts[(self.weights, fold, key)] = (model, scale)
        return found

    def score(self, family: Family, params: dict[str, float]) -> float:
        key = (self.weights, family.name, tuple(sorted(params.items())))
        if key in self.seen:
            return self.seen[key]
        started = time.perf_counter()
        found = []
        for fold, (fit, valid, *_) in enumerate(self.folds):
            if fold == 1 and not self.seen and self.elapsed() > self.budget * SECOND_FOLD_SHARE:
                self.n_folds = 1  # one fold is all this budget affords on this data
                break
            if fold == 2 and not self.seen and self.elapsed() > self.budget * THIRD_FOLD_SHARE:
                self.n_folds = 2  # a third fold is not cheap on this data
                break
            fitted = [self._part(fold, part) for part in family.part_params(params)]
            if len(fitted) == 1:
                model = _Composed([(1.0, fitted[0][0])])
            else:
                weights = (1.0 - params["weight"], params["weight"])
                model = _Composed(
                    [(w / scale, part) for w, (part, scale) in zip(weights, fitted, strict=True)]
                )
            scoring = time.perf_counter()
            found.append(ranking_metrics(model, fit, valid, K, VALIDATION_CELLS)[0][f"ndcg@{K}"])
            self.score_seconds = time.perf_counter() - scoring
        ndcg = float(np.mean(found))
        self.seen[key] = ndcg
        self.trials.append(Trial(family.name, dict(params), ndcg, time.perf_counter() - started))
        return ndcg


def sample_pairs(pairs: SignalPairs, max_pairs: int, seed: int = 0) -> tuple[SignalPairs, int | None]:
    """sample_users for SignalPairs."""
    if pairs.nnz <= max_pairs:
        return pairs, None
    order = np.random.default_rng(seed).permutation(pairs.shape[0])
    counts = np.bincount(pairs.rows, minlength=pairs.shape[0])[order]
    chosen = np.sort(order[: int(np.searchsorted(np.cumsum(counts), max_pairs)) + 1])
    return pairs.take_rows(chosen), len(chosen)


def tune(
    train: sp.csr_matrix | SignalPairs,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    families: list[str] | None = None,
    reading: bool = True,
    times: sp.spmatrix | None = None,
    ratings: sp.spmatrix | None = None,
) -> tuple[ItemItemModel, Choice]:
    """Choose on a validation split of `train`, then fit the choice on all of `train`.

    `train`: a matrix, or SignalPairs whose reading weights are chosen too (unless `reading` is
    False: then DEFAULT). `times`: with a matrix, its pairs' timestamps (seconds, same shape);
    the timed families (session_ease_lowpass) are only considered when the pairs have them, and
    weigh pairs by `ratings` (same shape) when given."""
    started = time.perf_counter()
    pairs = train if isinstance(train, SignalPairs) else SignalPairs.from_matrix(train, times, ratings)
    weights: ReadingWeights | None = DEFAULT if pairs.has_reading() else None
    n_items = pairs.shape[1]
    timed = pairs.times is not None
    candidates = [
        FAMILIES[name] for name in families or list(FAMILIES) if FAMILIES[name].fits(n_items, timed)
    ]

    def search_on(size: int) -> tuple[_Search, int | None, float]:
        sampled, users = sample_pairs(pairs, size)
        masks = [per_item_split(sampled.cols, seed=seed) for seed in VALIDATION_SEEDS]

        def folds_of(w: ReadingWeights | None, first: int, end: int) -> list[tuple]:
            return [
                (
                    sampled.matrix(w or DEFAULT, fit),
                    sampled.relevant(valid),
                    sampled.time_matrix(fit),
                    sampled.rating_matrix(fit),
                )
                for fit, valid in masks[first:end]
            ]

        ratio = pairs.nnz / max(int(masks[0][0].sum()), 1)
        return _Search(folds_of, weights, budget_seconds, started), users, ratio

    if pairs.nnz <= PROBE_ABOVE or not candidates:
        search, sampled_users, ratio = search_on(pairs.nnz)
    else:
        # The probe: the first family's prior on one fold of PROBE_PAIRS pairs, timed. It stays
        # the search when a bigger sample is not affordable (so the first candidate's cost is
        # what the budget allows), else the search moves to the sample the budget buys.
        search, sampled_users, ratio = search_on(PROBE_PAIRS)
        search.n_folds = 1
        probing = time.perf_counter()
        search.score(candidates[0], candidates[0].prior)
        seconds_per_pair = (time.perf_counter() - probing) / PROBE_PAIRS
        left = budget_seconds * FIRST_SHARE - search.elapsed()
        affordable = int(left / (seconds_per_pair * len(candidates) * SAMPLED_FOLDS))
        if affordable > PROBE_PAIRS:
            search, sampled_users, ratio = search_on(min(affordable, pairs.nnz))
    final_ratio = ratio if sampled_users is None else 0.0  # a sampled search: final fit not budgeted

    considered: dict[str, str] = {}
    scored: dict[str, float] = {}
    for name in families or list(FAMILIES):
        family = FAMILIES[name]
        if family.timed and not timed:
            considered[name] = "skipped: the pairs have no timestamps"
            continue
        if not family.fits(n_items, timed):
            considered[name] = f"skipped: a dense {n_items}x{n_items} inverse (limit {MAX_DENSE_ITEMS} items)"
            continue
        need = search.cost(family, family.prior) + search.final_fit(family, family.prior, final_ratio)
        if scored and search.elapsed() + need > budget_seconds:
            considered[name] = "skipped: budget"
            continue
        scored[name] = search.score(family, family.prior)
        considered[name] = f"prior validation nDCG@{K} {scored[name]:.4f}"
    best_family = FAMILIES[max(scored, key=scored.__getitem__)]
    best = dict(best_family.prior)
    best_ndcg = prior_ndcg = scored[best_family.name]
    stopped = "converged"
    reading_ndcg: dict[str, float] = {}
    if weights is not None and reading:
        weights, best_ndcg, reading_ndcg, stopped = _choose_reading(
            search, best_family, best, best_ndcg, final_ratio
        )
        search.weights = weights
    improved = True
    while improved and stopped == "converged":
        improved = False
        # Without ratings the rating weight changes nothing: not searched.
        searched = [p for p in SEARCH_ORDER if p in best_family.grid and p in best]
        for param in [p for p in searched if p != "rating" or pairs.ratings is not None]:
            grid = best_family.grid[param]
            for direction in (-1, 1):
                while True:
                    at = _grid_position(grid, best[param]) + direction
                    if not 0 <= at < len(grid):
                        break
                    candidate = {**best, param: grid[at]}
                    need = search.cost(best_family, candidate) + search.final_fit(
                        best_family, candidate, final_ratio
                    )
                    if search.elapsed() + need > budget_seconds:
                        stopped = "stopped by the budget"
                        break
                    ndcg = search.score(best_family, candidate)
                    if ndcg < best_ndcg + MIN_GAIN:
                        break
                    best, best_ndcg, improved = candidate, ndcg, True
                if stopped != "converged":
                    break
            if stopped != "converged":
                break
    tuning_seconds = time.perf_counter() - started

    final = {**best}
    if "l2" in final:
        final["l2"] = round(final["l2"] * ratio ** (1.0 - 2.0 * final.get("alpha", 0.0)), 3)
    fitting = time.perf_counter()
    model = best_family.build(final)
    if best_family.timed:
        model = model.fit(
            pairs.matrix(weights or DEFAULT), times=pairs.time_matrix(), ratings=pairs.rating_matrix()
        )
    else:
        model = model.fit(pairs.matrix(weights or DEFAULT))
    choice = Choice(
        family=best_family.name,
        params=final,
        validation_ndcg=best_ndcg,
        prior_ndcg=prior_ndcg,
        budget_seconds=budget_seconds,
        trials=search.trials,
        considered=considered,
        tuning_seconds=tuning_seconds,
        fit_seconds=time.perf_counter() - fitting,
        sampled_users=sampled_users,
        stopped=stopped,
        folds=search.n_folds,
        reading=weights,
        reading_ndcg=reading_ndcg,
    )
    return model, choice


def _choose_reading(
    search: _Search, family: Family, params: dict[str, float], default_ndcg: float, ratio: float
) -> tuple[ReadingWeights, float, dict[str, float], str]:
    """The reading weights, scored with `family` at `params`: DEFAULT (scored already), UNIFORM,
    then one coordinate pass over GRID from the better. (weights, nDCG, figures, stopped)."""

    def affordable(w: ReadingWeights) -> bool:
        search.weights = w
        need = search.cost(family, params) + search.final_fit(family, params, ratio)
        return search.elapsed() + need <= search.budget

    def score(w: ReadingWeights) -> float:
        search.weights = w
        return search.score(family, params)

    figures = {"default": default_ndcg}
    best, best_ndcg = DEFAULT, default_ndcg
    if not affordable(UNIFORM):
        search.weights = best
        return best, best_ndcg, figures, "stopped by the budget"
    figures["uniform"] = score(UNIFORM)
    if figures["uniform"] > best_ndcg:
        best, best_ndcg = UNIFORM, figures["uniform"]
    stopped = "converged"
    for signal in SIGNALS:
        for value in GRID[signal]:
            candidate = best.with_(signal, value)
            if candidate == best:
                continue
            if not affordable(candidate):
                stopped = "stopped by the budget"
                break
            ndcg = score(candidate)
            if ndcg >= best_ndcg + MIN_GAIN:
                best, best_ndcg = candidate, ndcg
        if stopped != "converged":
            break
    figures["chosen"] = best_ndcg
    search.weights = best
    return best, best_ndcg, figures, stopped


def _grid_position(grid: tuple[float, ...], value: float) -> int:
    """The grid point nearest to value (a prior need not be on the grid)."""
    return int(np.argmin([abs(g - value) for g in grid]))
