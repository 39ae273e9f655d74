"""Recommendation engine: age-safe universes, characters, themes, moral lessons and stories."""
