"""A seeded simulator of a StoryVerse population, and the shipped demo catalog.

    from simulator import generate, generate_feedback, load_catalog
    events = list(generate(users=50, days=14, seed=7))

See docs/simulator.md.
"""

from simulator.behaviour import Experiment, SimConfig, Simulation, generate, generate_feedback
from simulator.catalog import AGE_GROUPS, AgeGroup, Catalog, Character, Item, load_catalog
from simulator.population import Preferences, User, build_population

__all__ = [
    "AGE_GROUPS",
    "AgeGroup",
    "Catalog",
    "Character",
    "Experiment",
    "Item",
    "Preferences",
    "SimConfig",
    "Simulation",
    "User",
    "build_population",
    "generate",
    "generate_feedback",
    "load_catalog",
]
