"""Which parts of a story a comment talks about, and how it feels about each.

    extract("Loved the pictures but the ending was confusing")
    # [Aspect("illustrations", "positive", "loved"), Aspect("ending", "negative", "confusing")]

Method (docs/feedback.md has the measured precision and recall): a lexicon of
aspect terms and opinion words, applied clause by clause.
1. The comment is cut into sentences, then at contrast words ("but", "although",
   "except", ...) so that "loved it but the ending was confusing" keeps its two
   opinions apart; comma chunks that name a part but hold no opinion are joined to
   the next chunk ("the pictures, the characters and the voice were lovely").
2. Explicit terms ("ending", "pictures", "narrator") name an aspect; each takes the
   nearest opinion word of its clause, and is dropped when there is none (a mere
   mention is not feedback).
3. Implicit terms carry their own polarity ("too long", "crashed", "nightmares").
4. A negator up to three words before an opinion flips it ("not confusing at all"),
   a softener ("a bit", "slightly") turns a negative safety or problem term neutral.
One aspect per comment: when clauses disagree, negative wins (problems matter most).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedback_svc.sentiment import aspect_lexicon as lexicon

ASPECTS = (
    "plot",
    "ending",
    "characters",
    "length",
    "illustrations",
    "reading_level",
    "scary_content",
    "inappropriate_content",
    "technical_problem",
    "voice_narration",
)
POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"


@dataclass(frozen=True)
class Aspect:
    aspect: str
    polarity: str
    evidence: str


def _blocks(text: str) -> dict[str, list[str]]:
    """Parse a lexicon block text: 'header:' lines, then comma-separated phrases."""
    blocks: dict[str, list[str]] = {}
    header = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            header = line.strip().rstrip(":")
            blocks[header] = []
        else:
            blocks[header].append(line.strip())  # type: ignore[index]
    return {
        h: [" ".join(p.split()) for p in " ".join(lines).split(",") if p.strip()]
        for h, lines in blocks.items()
    }


def _phrases(text: str) -> frozenset[str]:
    return frozenset(" ".join(p.split()) for p in text.split(",") if p.strip())


# Terms that name an aspect and need an opinion word nearby.
EXPLICIT: dict[str, list[str]] = _blocks(lexicon.EXPLICIT)
# Terms that carry their own polarity: {aspect: [(phrase, polarity)]}.
IMPLICIT: dict[str, list[tuple[str, str]]] = {}
for _header, _items in _blocks(lexicon.IMPLICIT).items():
    _aspect, _polarity = _header.split()
    IMPLICIT.setdefault(_aspect, []).extend((p, _polarity) for p in _items)
OPINIONS: dict[str, str] = {
    phrase: polarity for polarity, items in _blocks(lexicon.OPINIONS).items() for phrase in items
}
# Weak terms name an aspect only with an opinion from their own set: "the story was
# great" is about the whole thing, "the story was confusing" is about the plot; "we
# love this app" is praise, "the app is slow" is a technical matter.
PLOT_OPINIONS = _phrases(lexicon.PLOT_OPINIONS)
TECH_OPINIONS = _phrases(lexicon.TECH_OPINIONS)
WEAK: dict[str, tuple[str, frozenset[str]]] = {
    "story": ("plot", PLOT_OPINIONS),
    "stories": ("plot", PLOT_OPINIONS),
    "app": ("technical_problem", TECH_OPINIONS),
    "the app": ("technical_problem", TECH_OPINIONS),
}
# Phrases that only hide a misleading word: "in the end she loved it" is not about the ending.
NOOP = ["ended up", "in the end", "end up", "end of the day", "at the end of the day", "no end"]

NEGATORS = frozenset(
    {"not", "no", "never", "hardly", "barely", "without", "nothing", "cannot", "nor", "neither"}
)
SOFTENERS = frozenset({"bit", "little", "slightly", "mildly", "somewhat", "tad", "touch"})
CONTRAST = re.compile(
    r"\b(?:but|however|although|though|except|yet|whereas|while|apart from|other than|even if)\b"
)
# "and" joins clauses, except in fixed phrases ("went on and on", "short and sweet").
_COORDINATION = re.compile(r",|\band\b(?!\s+(?:on|over|again|sweet|white|down)\b)")
_SENTENCES = re.compile(r"[.!?;\n]+|\s-\s|:\)|:\(")
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# Problem and safety aspects: their mere mention in a complaint is the problem.
_PROBLEM_ASPECTS = frozenset({"scary_content", "inappropriate_content", "technical_problem"})


@dataclass(frozen=True)
class _Term:
    tokens: tuple[str, ...]
    aspect: str | None  # None for opinion words
    polarity: str | None  # fixed polarity (implicit terms, opinions); None for explicit terms
    # Weak terms: the opinions that make them count (see WEAK).
    allowed: frozenset[str] | None = None
    noop: bool = False


def _parse(phrase: str) -> tuple[str, ...]:
    return tuple(phrase.lower().split())


def _lexicon() -> list[_Term]:
    terms: list[_Term] = []
    for aspect, phrases in EXPLICIT.items():
        terms += [_Term(_parse(p), aspect, None) for p in phrases]
    terms += [_Term(_parse(p), aspect, None, allowed) for p, (aspect, allowed) in WEAK.items()]
    terms += [_Term(_parse(p), None, None, noop=True) for p in NOOP]
    for aspect, pairs in IMPLICIT.items():
        terms += [_Term(_parse(p), aspect, polarity) for p, polarity in pairs]
    terms += [_Term(_parse(p), None, polarity) for p, polarity in OPINIONS.items()]
    # Longest phrases first, so "too long" wins over "long" and "made no sense" over "no".
    return sorted(terms, key=lambda t: -len(t.tokens))


_TERMS = _lexicon()
_BY_FIRST: dict[str, list[_Term]] = {}
_PREFIXED: list[_Term] = []
for _term in _TERMS:
    first = _term.tokens[0]
    if first.endswith("*"):
        _PREFIXED.append(_term)
    else:
        _BY_FIRST.setdefault(first, []).append(_term)


@dataclass
class _Hit:
    start: int
    end: int
    term: _Term
    text: str


def _word_matches(pattern: str, word: str) -> bool:
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    return pattern == word


def _matches_at(tokens: list[str], i: int, term: _Term) -> bool:
    if i + len(term.tokens) > len(tokens):
        return False
    return all(_word_matches(p, tokens[i + k]) for k, p in enumerate(term.tokens))


def _scan(tokens: list[str]) -> list[_Hit]:
    hits: list[_Hit] = []
    i = 0
    while i < len(tokens):
        candidates = [*_BY_FIRST.get(tokens[i], ()), *_PREFIXED]
        best = None
        for term in candidates:
            if _matches_at(tokens, i, term) and (best is None or len(term.tokens) > len(best.tokens)):
                best = term
        if best is None:
            i += 1
            continue
        end = i + len(best.tokens)
        hits.append(_Hit(i, end, best, " ".join(tokens[i:end])))
        i = end
    return hits


def _negated(tokens: list[str], start: int) -> bool:
    window = tokens[max(0, start - 3) : start]
    return any(w in NEGATORS or w.endswith("n't") for w in window)


def _softened(tokens: list[str], start: int) -> bool:
    return any(w in SOFTENERS for w in tokens[max(0, start - 3) : start])


def _flip(polarity: str) -> str:
    return {POSITIVE: NEGATIVE, NEGATIVE: POSITIVE}.get(polarity, polarity)


def _tokens(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return _TOKEN.findall(text)


def _chunks(sentence: str) -> list[list[str]]:
    """Clauses of a sentence: split at contrast words, then at commas and "and"; a
    chunk that names parts without an opinion is joined to the next one ("the
    pictures, characters and voice were lovely"), or to the previous one at the end."""
    clauses: list[list[str]] = []
    for part in CONTRAST.split(sentence.lower()):
        part_clauses: list[list[str]] = []
        pending: list[str] = []
        for piece in _COORDINATION.split(part):
            tokens = pending + _tokens(piece)
            hits = _scan(tokens)
            has_aspect = any(h.term.aspect for h in hits)
            has_opinion = any((h.term.aspect is None and not h.term.noop) or h.term.polarity for h in hits)
            if has_aspect and not has_opinion:
                pending = tokens
                continue
            part_clauses.append(tokens)
            pending = []
        if pending:
            # A trailing list of parts shares the previous clause's opinion ("loved the
            # story and the pictures") unless that opinion already has its own part.
            if part_clauses and not any(_names_part(h) for h in _scan(part_clauses[-1])):
                part_clauses[-1] = part_clauses[-1] + pending
            else:
                part_clauses.append(pending)
        clauses += part_clauses
    return clauses


def _names_part(hit: _Hit) -> bool:
    return hit.term.aspect is not None and hit.term.allowed is None


def _clause_aspects(tokens: list[str]) -> list[Aspect]:
    hits = _scan(tokens)
    opinions: list[tuple[_Hit, str, str]] = []  # hit, polarity, evidence
    for hit in hits:
        if hit.term.aspect is None and not hit.term.noop:
            polarity = hit.term.polarity or NEUTRAL
            evidence = hit.text
            if _negated(tokens, hit.start):
                polarity = _flip(polarity)
                evidence = f"not {hit.text}"
            elif polarity == POSITIVE and hit.start > 0 and tokens[hit.start - 1] == "too":
                # "too fast", "too quickly": too much of a good thing is a complaint.
                polarity, evidence = NEGATIVE, f"too {hit.text}"
            opinions.append((hit, polarity, evidence))
    found: list[Aspect] = []
    implicit = {h.term.aspect for h in hits if h.term.aspect and h.term.polarity}
    for hit in hits:
        term = hit.term
        if term.aspect is None or (term.polarity is None and term.aspect in implicit):
            continue
        if term.polarity is not None:  # implicit: the term is its own evidence
            polarity = term.polarity
            evidence = hit.text
            if _negated(tokens, hit.start):
                polarity, evidence = _flip(polarity), f"not {hit.text}"
            elif polarity == NEGATIVE and term.aspect in _PROBLEM_ASPECTS and _softened(tokens, hit.start):
                polarity = NEUTRAL
            found.append(Aspect(term.aspect, polarity, evidence))
            continue
        nearest = _nearest(hit, opinions)
        if nearest is None:
            continue
        opinion, polarity, evidence = nearest
        if term.allowed is not None and opinion.text not in term.allowed:
            continue
        found.append(Aspect(term.aspect, polarity, evidence))
    return found


def _nearest(hit: _Hit, opinions: list[tuple[_Hit, str, str]]) -> tuple[_Hit, str, str] | None:
    best = None
    best_key = None
    for item in opinions:
        opinion = item[0]
        if opinion.start >= hit.end:
            distance, after = opinion.start - hit.end, 0
        else:
            distance, after = hit.start - opinion.end, 1
        if distance > 8:
            continue
        key = (distance, after)  # ties go to the opinion after the term ("the ending was sad")
        if best_key is None or key < best_key:
            best, best_key = item, key
    return best


_RANK = {NEGATIVE: 0, POSITIVE: 1, NEUTRAL: 2}


def extract(comment: str) -> list[Aspect]:
    """The aspects of a comment, one per aspect, in the order of ASPECTS."""
    chosen: dict[str, Aspect] = {}
    for sentence in _SENTENCES.split(comment):
        for clause in _chunks(sentence):
            for aspect in _clause_aspects(clause):
                current = chosen.get(aspect.aspect)
                if current is None or _RANK[aspect.polarity] < _RANK[current.polarity]:
                    chosen[aspect.aspect] = aspect
    return [chosen[name] for name in ASPECTS if name in chosen]
