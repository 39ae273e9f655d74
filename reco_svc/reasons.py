"""Why an item was recommended, in words a parent understands.

The reason is the input that contributed most to the item's score (x_i × W_ij):

| top input                                  | reason                                   |
|--------------------------------------------|------------------------------------------|
| a pick, mostly through co-occurrence       | "children who picked Goku also picked Woody" |
| a pick (universe/character/theme/lesson)   | "because you picked Goku"                |
| a story the child read or made             | "because you read Goku & Woody: Friendship" |
| trend:<age group>                          | "trending with 6-8 year olds"            |
| pop:<age group>                            | "popular at your age"                    |
| device:<device>                            | "popular on tablets"                     |
| no signal (score 0 at 6 decimals)          | "suits your age group"                   |

The named input always contributed to the score: the reason is chosen only for an item whose
score is above 0, and the largest contribution is then positive. An item with no signal only
fills the list and says no more than that it suits the age group. Items newer than the model
are scored by the attribute model against the picks: "new: like Goku".
"""

from __future__ import annotations

from reco_svc.catalog import PICKABLE, CatalogEntry, CatalogSnapshot

FALLBACK = "suits your age group"
PLURAL = {"tablet": "tablets", "phone": "phones", "desktop": "computers", "tv": "TVs", "other": "all devices"}


def _name(snapshot: CatalogSnapshot, key: str) -> str:
    kind, _, item_id = key.partition(":")
    entry = snapshot.get(kind, item_id)
    return entry.name if entry else item_id


def from_input(
    input_name: str, target: CatalogEntry, snapshot: CatalogSnapshot, mostly_cooccurrence: bool
) -> str:
    kind, _, value = input_name.partition(":")
    if kind == "trend":
        return f"trending with {value} year olds"
    if kind == "pop":
        return "popular at your age"
    if kind == "device":
        return f"popular on {PLURAL.get(value, value)}"
    name = _name(snapshot, input_name)
    if kind == "story":
        return f"because you read {name}"
    if mostly_cooccurrence and kind in PICKABLE and target.kind in PICKABLE:
        return f"children who picked {name} also picked {target.name}"
    return f"because you picked {name}"


def for_new_item(similar_to: str, snapshot: CatalogSnapshot) -> str:
    """A new item scored through the pick it is most like (its largest contribution)."""
    return f"new: like {_name(snapshot, similar_to)}"
