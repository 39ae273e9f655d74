"""Each service owns its tables: one service's migrations create a table, and no other service's
code or migrations name it (what a service needs of another's data arrives on the bus).
Tables of common/sql (API keys, erasure records) are plumbing every service keeps in its own
database. docs/architecture.md ("Who owns what") lists the same."""

from __future__ import annotations

import re
from collections import defaultdict

from common.settings import REPO_ROOT

SERVICES = ("analytics_svc", "reco_svc", "feedback_svc")
_CREATED = re.compile(
    r"CREATE\s+(?:UNLOGGED\s+)?(?:TABLE|MATERIALIZED\s+VIEW|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)",
    re.I,
)
# Where SQL names a table: after these keywords (upper case, as the code writes SQL), in
# to_regclass('...'), and the table of an erasure step.
_NAMED = (
    re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|EXISTS|ON)\s+([a-z_][a-z0-9_]*)"),
    re.compile(r"to_regclass\('([a-z_][a-z0-9_]*)'\)"),
    re.compile(r"table_step\(\s*\w+,\s*\"([a-z_][a-z0-9_]*)\""),
)


# Migrations written when the services shared one database, and the one-time steps that left
# it: (service, table) -> why the name stays. Nothing else may name another service's table.
LEGACY = {
    # 0001_feedback.sql created hidden_items in both services; 0005 drops it where the
    # engine's migrations have not run.
    ("feedback_svc", "hidden_items"): "feedback_svc/migrations/0001 and 0005",
    # The engine's tables of its own are filled once from the shared database's events and
    # feedback where they are there (a deployment from before), then from the bus only.
    ("reco_svc", "events"): "reco_svc/migrations: the one-time backfill",
    ("reco_svc", "feedback"): "reco_svc/migrations: the one-time backfill",
}


def created_by(service: str) -> set[str]:
    tables = set()
    for path in (REPO_ROOT / service / "migrations").glob("*.sql"):
        tables |= {m.lower() for m in _CREATED.findall(path.read_text())}
    return tables


def named_in(service: str, code_only: bool = False) -> dict[str, set[str]]:
    """{table name: files of the service that name it} (code_only: not its migrations)."""
    found: dict[str, set[str]] = defaultdict(set)
    root = REPO_ROOT / service
    for path in [*root.rglob("*.py"), *([] if code_only else root.rglob("*.sql"))]:
        text = path.read_text()
        for pattern in _NAMED:
            for name in pattern.findall(text):
                found[name].add(str(path.relative_to(REPO_ROOT)))
    return found


def test_every_table_has_one_owner():
    creators: dict[str, list[str]] = defaultdict(list)
    for service in SERVICES:
        for table in created_by(service):
            creators[table].append(service)
    assert {"events", "feedback", "story_meta", "catalog_items", "hidden_items"} <= set(creators)
    shared = {t: s for t, s in creators.items() if len(s) > 1}
    assert shared == {"hidden_items": ["reco_svc", "feedback_svc"]}  # feedback's 0001, dropped by 0005


def owners() -> dict[str, str]:
    """{table: its owning service}; a table created by two services belongs to the one whose
    code uses it (the other's is a LEGACY migration)."""
    found: dict[str, str] = {}
    for service in SERVICES:
        for table in created_by(service):
            if (service, table) not in LEGACY:
                found[table] = service
    return found


def test_no_service_names_another_services_table():
    owner = owners()
    crossings = {}
    for service in SERVICES:
        for table, files in named_in(service).items():
            if owner.get(table, service) != service and (service, table) not in LEGACY:
                crossings[f"{service} names {table}"] = sorted(files)
    assert crossings == {}


def test_no_service_code_names_another_services_table_not_even_a_legacy_one():
    """The exceptions above are migrations only: no running code reads another service's table."""
    owner = owners()
    crossings = {}
    for service in SERVICES:
        for table, files in named_in(service, code_only=True).items():
            if owner.get(table, service) != service:
                crossings[f"{service} names {table}"] = sorted(files)
    assert crossings == {}
