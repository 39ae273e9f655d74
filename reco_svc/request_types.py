"""Which lists a request asks for: the contract's type names -> the engine's types.

The seed names types in the singular ("universe"), the GET routes in the plural
("/api/recommendations/universes"); both are accepted, under either field name
(`recommendation_types`, or `types` as clients of the seed's examples send it). The
plural "themes" is what the GET route serves: themes and moral lessons in one list.
"""

from __future__ import annotations

from collections.abc import Sequence

# The contract's names (proto RecommendRequest) -> the engine's (serving.Request.types).
ENGINE_TYPES = {
    "universe": "universe",
    "character": "character",
    "theme": "theme",
    "moral_lesson": "moral_lesson",
    "story": "story",
    "universes": "universe",
    "characters": "character",
    "themes": "themes",
    "moral_lessons": "moral_lesson",
    "stories": "story",
}
# Nothing asked: one list of each kind, as the four GET routes give them.
DEFAULT_TYPES = ("universe", "character", "themes", "story")


def requested_types(recommendation_types: Sequence[str], types: Sequence[str]) -> tuple[str, ...]:
    """The engine's types, in the order asked (recommendation_types first when a client sends
    both names), each once. Validation has checked the names."""
    asked = [*recommendation_types, *types]
    if not asked:
        return DEFAULT_TYPES
    return tuple(dict.fromkeys(ENGINE_TYPES[name] for name in asked))
