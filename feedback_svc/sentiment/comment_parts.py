"""The parts of a parent comment that carry their own opinion, and the cues that say how much each counts.

    split("My son loved the story but thought the ending was a bit confusing.")
    # [Part("My son loved the story", role="main", ...),
    #  Part("thought the ending was a bit confusing.", role="contrast", hedged=True, ...)]

Why: the sentiment model was trained on single movie-review sentences, where the clause after
"but" decides. Parents write "loved it, but <a small thing>": read as one text, the small thing
wins. Scored part by part (comment_sentiment.py), each part keeps its own polarity and the cues
below decide how much it weighs.

Cut points, in this order:
1. sentences (. ! ? and line breaks; not an ellipsis, an initial or "Mr."/"Dr.");
2. contrast words: the part after "but", "however", ", yet", "whereas" is a `contrast`; the clause
   of "although", "though", "even if", "despite", "while" is a `concession`; what follows "except",
   "apart from", "other than" is an `exception`. A sentence that opens with "But"/"However" is a
   contrast; one that ends with "though" makes its last comma clause one;
3. a semicolon, and a comma followed by an aside: ", only wish ...", ", a bit long", ", please ...".
The contrast word itself is left out of the part's text.

Cues (whole words, case-insensitive) for each part:
- `hedged`: the speaker makes it small ("a bit", "slightly", "minor", "the only thing", "I guess");
- `request`: a wish or a fix asked for ("please", "would be nice", "I wish", "could be");
- `intense`: the speaker makes it big ("absolutely", "loved", "way too", "nightmares", "!").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAIN, CONTRAST, CONCESSION, EXCEPTION = "main", "contrast", "concession", "exception"
ROLES = (MAIN, CONTRAST, CONCESSION, EXCEPTION)


@dataclass(frozen=True)
class Part:
    text: str
    start: int  # offsets in the comment: text == comment[start:end]
    end: int
    role: str
    sentence: int  # which sentence of the comment (0, 1, ...) holds it
    hedged: bool
    request: bool
    intense: bool


def _words(phrases: str) -> re.Pattern[str]:
    """One pattern for comma-separated phrases, matched as whole words."""
    items = sorted({" ".join(p.split()) for p in phrases.split(",") if p.strip()}, key=len, reverse=True)
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in items)
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.IGNORECASE)


HEDGES = _words(
    """a bit, a little, a little bit, a tiny bit, a tad, a touch, slightly, slight, minor, small, tiny,
    only thing, only downside, only issue, only problem, only complaint, only criticism, only gripe,
    only wish, only niggle, the only, my only, one small, one little, at least, i guess, i suppose"""
)
REQUESTS = _words(
    """please, would be nice, would be great, would love, would help, it would help, would have liked,
    i'd have liked, i'd like, i wish, wish, could be, could have been, could have had, could use,
    could slow, should be, consider, i'd just, i would, would prefer, hope you, needs to be"""
)
INTENSIFIERS = _words(
    """absolutely, totally, completely, truly, really, so much, very, extremely, super, incredibly,
    best, worst, ever, loved, loves, adored, adores, adore, hated, hates, obsessed, amazing, fantastic,
    wonderful, brilliant, perfect, terrible, awful, horrible, dreadful, far too, way too, much too,
    nightmares, terrified, at all, never, begged, favourite, favorite, waste, disappointing,
    disappointed"""
)

# Sentence ends: . ! ? and line breaks, but not an ellipsis ("loved it... mostly"), an initial
# ("J. K. Rowling") or a short title ("Mr. Bear", "Dr. Seuss").
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n\s*")
_NOT_AN_END = re.compile(
    r"(?:\.\.|\u2026)|(?:^|[\s(.])(?:[A-Za-z]|mr|mrs|ms|dr|jr|sr|st|vs|etc|e\.g|i\.e|mt)\.$",
    re.IGNORECASE,
)
# Contrast words inside a sentence. "but" is not one in "nothing but", "anything but", "all but",
# "but also" (after "not only").
_AFTER = re.compile(
    r"(?<![\w'])(?:(?<!nothing\s)(?<!anything\s)(?<!all\s)but(?!\s+also\b)|however|whereas"
    r"|(?<=,\s)yet|(?<=\band\s)yet)(?![\w'])",
    re.IGNORECASE,
)
_CONCESSIVE = re.compile(
    r"(?<![\w'])(?:even\s+though|even\s+if|although|though|tho|despite|in\s+spite\s+of"
    r"|(?<=,\s)while|(?<=,\s)whilst)(?![\w'])",
    re.IGNORECASE,
)
_EXCEPTIVE = re.compile(
    r"(?<![\w'])(?:except(?:\s+for|\s+that)?|apart\s+from|aside\s+from|other\s+than|save\s+for)"
    r"(?!\s+(?:that|this|those)\b)(?![\w'])",
    re.IGNORECASE,
)
_OPENS_SENTENCE_AS_CONTRAST = re.compile(r"\s*(?:but|however|yet|still|though)\b[,\s]*", re.IGNORECASE)
_OPENS_AS_CONCESSION = re.compile(
    r"\s*(?:although|though|even\s+though|even\s+if|while|whilst|despite)\b\s*", re.IGNORECASE
)
_TAIL_CONTRAST = re.compile(r"[,\s]+(?:though|tho|however|anyway)\s*([.!?;]*)\s*$", re.IGNORECASE)
# A comma that introduces an aside: ", only wish ...", ", a bit long", ", please fix ...".
_ASIDE_AFTER_COMMA = re.compile(
    r",\s*(?=(?:only|just|my\s+only|the\s+only|one\s+small|small|minor|slightly|a\s+(?:little|bit|tad|touch)"
    r"|maybe|perhaps|i\s+wish|wish|please|shame|sadly|unfortunately|if\s+a)\b)",
    re.IGNORECASE,
)
# A semicolon joins two clauses of one sentence: a cut, not a new sentence.
_SEMICOLON = re.compile(r";")
_EDGE_CHARS = " \t\r\n,;:-"
_LETTER = re.compile(r"[A-Za-z]")


def _span(comment: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding spaces, commas, semicolons, colons and dashes."""
    text = comment[start:end]
    lead = len(text) - len(text.lstrip(_EDGE_CHARS))
    trail = len(text) - len(text.rstrip(_EDGE_CHARS))
    return start + lead, max(start + lead, end - trail)


def _cut_sentence(comment: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """(start, end, role) pieces of one sentence, contrast words left out."""
    sentence = comment[start:end]
    role_of_first = MAIN
    opening = _OPENS_SENTENCE_AS_CONTRAST.match(sentence)
    if opening and opening.end() < len(sentence):
        start += opening.end()
        sentence = comment[start:end]
        role_of_first = CONTRAST
    pieces: list[tuple[int, int, str]] = []
    concession = _OPENS_AS_CONCESSION.match(sentence)
    comma = sentence.find(",", concession.end()) if concession else -1
    if concession and comma > 0:
        # "Although the lesson was good, the story dragged": the opening clause is the concession.
        pieces.append((start + concession.end(), start + comma, CONCESSION))
        start += comma + 1
        sentence = comment[start:end]
    tail = _TAIL_CONTRAST.search(sentence)
    tail_piece = None
    if tail and tail.start() > 0:
        # "..., the ending was slightly abrupt though.": the clause before "though" is a contrast.
        body_end = tail.start()
        last_comma = sentence.rfind(",", 0, body_end)
        tail_piece = (start + last_comma + 1 if last_comma >= 0 else start, start + body_end, CONTRAST)
        end = start + (last_comma if last_comma >= 0 else 0)
        sentence = comment[start:end]
    role = role_of_first
    position = start
    for match in _markers(sentence):
        pieces.append((position, start + match.start(), role))
        position = start + match.end()
        role = _role_of(match)
    pieces.append((position, end, role))
    if tail_piece:
        pieces.append(tail_piece)
    return pieces


def _markers(sentence: str) -> list[re.Match[str]]:
    found = [
        *(m for m in _AFTER.finditer(sentence)),
        *(m for m in _CONCESSIVE.finditer(sentence) if m.start() > 0),
        *(m for m in _EXCEPTIVE.finditer(sentence)),
        *(m for m in _ASIDE_AFTER_COMMA.finditer(sentence)),
        *(m for m in _SEMICOLON.finditer(sentence)),
    ]
    found.sort(key=lambda m: m.start())
    kept: list[re.Match[str]] = []
    for match in found:
        if not kept or match.start() >= kept[-1].end():
            kept.append(match)
    return kept


def _role_of(marker: re.Match[str]) -> str:
    if marker.re is _AFTER:
        return CONTRAST
    if marker.re is _CONCESSIVE:
        return CONCESSION
    if marker.re is _EXCEPTIVE:
        return EXCEPTION
    return MAIN  # an aside after a comma or a semicolon: its cues say how much it counts


def _sentences(comment: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, its closing punctuation included."""
    spans, start = [], 0
    for end in _SENTENCE_END.finditer(comment):
        if end.group().startswith("\n"):
            spans.append((start, end.start()))
        elif _NOT_AN_END.search(comment[max(start, end.start() - 4) : end.end()]):
            continue
        else:
            spans.append((start, end.end()))
        start = end.end()
    spans.append((start, len(comment)))
    return [(a, b) for a, b in spans if _LETTER.search(comment[a:b])]


def split(comment: str) -> list[Part]:
    """The parts of `comment` in reading order; a comment without cut points is one `main` part
    whose text is the whole comment (stripped), so it scores exactly as before; one without
    letters has none."""
    parts: list[Part] = []
    for number, (first, last) in enumerate(_sentences(comment)):
        for start, end, role in _cut_sentence(comment, first, last):
            start, end = _span(comment, start, end)
            text = comment[start:end]
            if end > start and _LETTER.search(text):
                parts.append(_part(text, start, end, role, number))
    if len(parts) <= 1:
        start, end = _span(comment, 0, len(comment))
        if not _LETTER.search(comment[start:end]):
            return []
        return [_part(comment[start:end], start, end, MAIN, 0)]
    return parts


def _part(text: str, start: int, end: int, role: str, sentence: int) -> Part:
    return Part(
        text=text,
        start=start,
        end=end,
        role=role,
        sentence=sentence,
        hedged=bool(HEDGES.search(text)),
        request=bool(REQUESTS.search(text)),
        intense="!" in text or bool(INTENSIFIERS.search(text)),
    )
