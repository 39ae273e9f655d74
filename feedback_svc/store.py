"""The feedback service's SQL: feedback rows, analysis results, story metadata, alerts, hidden
items and the moderation queue; the summaries, a story's feedback and search. Always
parameterized."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from feedback_svc.requests import SearchFilters, SummaryFilters
from feedback_svc.submission import FeedbackRow

Conn = asyncpg.Connection | asyncpg.Pool

_INSERT_FEEDBACK = """
INSERT INTO feedback (feedback_id, user_id, story_id, ts, rating, comment, redacted, categories,
                      child_age, age_group, device_type, platform)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (feedback_id) DO NOTHING
RETURNING feedback_id
"""


async def insert_feedback(conn: Conn, row: FeedbackRow) -> bool:
    """Store a feedback row; False when its feedback_id was already stored."""
    inserted = await conn.fetchval(
        _INSERT_FEEDBACK,
        row.feedback_id,
        row.user_id,
        row.story_id,
        row.ts,
        row.rating,
        row.comment,
        row.redacted,
        row.categories,
        row.child_age,
        row.age_group,
        row.device_type,
        row.platform,
    )
    return inserted is not None


# Many rows in one statement. Categories travel joined by "," (they are slugs of the
# contract's enum) because unnest cannot take an array of arrays of different lengths.
# The outer SELECT's snapshot does not see the rows inserted here: `analyzed` is that
# of rows stored before, the replays.
_INSERT_FEEDBACK_GROUP = """
WITH x AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::smallint[],
                         $6::text[], $7::bool[], $8::text[], $9::smallint[], $10::text[], $11::text[],
                         $12::text[])
        AS x(feedback_id, user_id, story_id, ts, rating, comment, redacted, categories, child_age,
             age_group, device_type, platform)
), ins AS (
    INSERT INTO feedback (feedback_id, user_id, story_id, ts, rating, comment, redacted, categories,
                          child_age, age_group, device_type, platform)
    SELECT feedback_id, user_id, story_id, ts, rating, comment, redacted, string_to_array(categories, ','),
           child_age, age_group, device_type, platform
    FROM x
    ON CONFLICT (feedback_id) DO NOTHING
    RETURNING feedback_id
)
SELECT x.feedback_id, ins.feedback_id IS NOT NULL AS created, coalesce(f.analyzed, false) AS analyzed
FROM x LEFT JOIN ins USING (feedback_id) LEFT JOIN feedback f ON f.feedback_id = x.feedback_id
"""


async def insert_feedback_group(conn: Conn, rows: Sequence[FeedbackRow]) -> dict[str, tuple[bool, bool]]:
    """Store rows of distinct feedback_ids in one statement (one transaction):
    {feedback_id: (created, analyzed before)}."""
    records = await conn.fetch(
        _INSERT_FEEDBACK_GROUP,
        [r.feedback_id for r in rows],
        [r.user_id for r in rows],
        [r.story_id for r in rows],
        [r.ts for r in rows],
        [r.rating for r in rows],
        [r.comment for r in rows],
        [r.redacted for r in rows],
        [",".join(r.categories) for r in rows],
        [r.child_age for r in rows],
        [r.age_group for r in rows],
        [r.device_type for r in rows],
        [r.platform for r in rows],
    )
    return {r[0]: (r[1], r[2]) for r in records}


@dataclass(frozen=True)
class ToAnalyze:
    feedback_id: str
    story_id: str
    rating: int
    comment: str
    categories: list[str]
    ts: datetime


async def load_for_analysis(conn: Conn, feedback_ids: Sequence[str]) -> list[ToAnalyze]:
    """The rows among feedback_ids not analysed yet (a late message or a sweep did it already)."""
    records = await conn.fetch(
        "SELECT feedback_id, story_id, rating, comment, categories, ts FROM feedback"
        " WHERE feedback_id = ANY($1::text[]) AND NOT analyzed ORDER BY ts",
        list(feedback_ids),
    )
    return [ToAnalyze(**dict(r)) for r in records]


async def unanalyzed(conn: Conn, older_than_seconds: float, limit: int) -> list[str]:
    records = await conn.fetch(
        "SELECT feedback_id FROM feedback WHERE NOT analyzed"
        " AND received_at < now() - make_interval(secs => $1) ORDER BY received_at LIMIT $2",
        older_than_seconds,
        limit,
    )
    return [r[0] for r in records]


async def save_analysis(
    conn: Conn, results: Sequence[tuple[str, float | None, str | None, str, str]]
) -> None:
    """results: (feedback_id, sentiment_score, sentiment_label, aspects as JSON, parts as JSON);
    one round trip."""
    if not results:
        return
    ids, scores, labels, aspects, parts = (list(c) for c in zip(*results, strict=True))
    await conn.execute(
        "UPDATE feedback f SET sentiment_score = x.score, sentiment_label = x.label,"
        " aspects = x.aspects::jsonb, parts = x.parts::jsonb, analyzed = true, analyzed_at = now()"
        " FROM unnest($1::text[], $2::real[], $3::text[], $4::text[], $5::text[])"
        " AS x(id, score, label, aspects, parts)"
        " WHERE f.feedback_id = x.id",
        ids,
        scores,
        labels,
        aspects,
        parts,
    )


def parts_json(parts: Sequence[object], aspects: Sequence[Sequence[str]]) -> str:
    """The scored parts of a comment (comment_sentiment.ScoredPart) with the aspects each names,
    as the contract names them."""
    return json.dumps(
        [
            {
                "text": p.text,
                "sentiment_score": round(p.score, 4),
                "sentiment_label": p.label,
                "weight": round(p.weight, 4),
                "aspects": list(names),
            }
            for p, names in zip(parts, aspects, strict=True)
        ]
    )


# ---- story metadata (from the analytics events table) ----

# Stories not known yet, copied from their first story_creation event. The combination
# key is the sorted distinct universes joined by "+", for two or more universes.
_COPY_STORY_META = """
INSERT INTO story_meta (story_id, universes, characters, theme, combination)
SELECT DISTINCT ON (e.story_id)
       e.story_id, coalesce(e.universes, '{}'), coalesce(e.characters, '{}'), e.theme,
       CASE WHEN cardinality(ARRAY(SELECT DISTINCT u FROM unnest(e.universes) u)) >= 2
            THEN array_to_string(ARRAY(SELECT DISTINCT u FROM unnest(e.universes) u ORDER BY u), '+') END
FROM events e
WHERE e.event_type = 'story_creation' AND e.story_id = ANY($1::text[])
  AND NOT EXISTS (SELECT 1 FROM story_meta m WHERE m.story_id = e.story_id)
ORDER BY e.story_id, e.ts
ON CONFLICT (story_id) DO NOTHING
"""


async def events_table_exists(conn: Conn) -> bool:
    return await conn.fetchval("SELECT to_regclass('events') IS NOT NULL")


async def copy_story_meta(conn: Conn, story_ids: Sequence[str]) -> None:
    """Copy the metadata of stories not known yet from the analytics events (the
    caller checks that table exists: it does not in a feedback-only deployment)."""
    await conn.execute(_COPY_STORY_META, list(set(story_ids)))


async def stories_without_meta(conn: Conn, story_ids: Sequence[str]) -> list[str]:
    records = await conn.fetch(
        "SELECT s FROM unnest($1::text[]) s"
        " WHERE NOT EXISTS (SELECT 1 FROM story_meta m WHERE m.story_id = s)",
        list(set(story_ids)),
    )
    return [r[0] for r in records]


# The latest ratings of many stories (or combinations) in one query, oldest first;
# the (story_id, ts DESC, feedback_id DESC) index serves each story's slice.
_STORY_SERIES = """
SELECT story_id AS subject, array_agg(rating ORDER BY ts, feedback_id) AS ratings
FROM (
    SELECT story_id, rating, ts, feedback_id,
           row_number() OVER (PARTITION BY story_id ORDER BY ts DESC, feedback_id DESC) AS n
    FROM feedback
    WHERE story_id = ANY($1::text[]) AND ts > now() - make_interval(days => $3)
) latest
WHERE n <= $2
GROUP BY story_id
"""

_COMBINATION_SERIES = """
SELECT combination AS subject, array_agg(rating ORDER BY ts, feedback_id) AS ratings
FROM (
    SELECT m.combination, f.rating, f.ts, f.feedback_id,
           row_number() OVER (PARTITION BY m.combination ORDER BY f.ts DESC, f.feedback_id DESC) AS n
    FROM feedback f JOIN story_meta m USING (story_id)
    WHERE m.combination = ANY($1::text[]) AND f.ts > now() - make_interval(days => $3)
) latest
WHERE n <= $2
GROUP BY combination
"""


async def rating_series(
    conn: Conn, scope: str, subjects: Sequence[str], limit: int, days: int
) -> dict[str, list[int]]:
    """{story or combination: its latest `limit` ratings within `days`, oldest first}."""
    if not subjects:
        return {}
    sql = _STORY_SERIES if scope == "story" else _COMBINATION_SERIES
    records = await conn.fetch(sql, list(set(subjects)), limit, days)
    return {r["subject"]: list(r["ratings"]) for r in records}


async def story_combinations(conn: Conn, story_ids: Sequence[str]) -> dict[str, str]:
    records = await conn.fetch(
        "SELECT story_id, combination FROM story_meta"
        " WHERE story_id = ANY($1::text[]) AND combination IS NOT NULL",
        list(set(story_ids)),
    )
    return {r["story_id"]: r["combination"] for r in records}


async def technical_reports(conn: Conn, story_id: str, minutes: int) -> list[str]:
    """Feedback ids reporting a technical problem for a story in the last minutes."""
    records = await conn.fetch(
        "SELECT feedback_id FROM feedback WHERE story_id = $1 AND analyzed"
        " AND received_at > now() - make_interval(mins => $2)"
        ' AND aspects @> \'[{"aspect": "technical_problem", "polarity": "negative"}]\''
        " ORDER BY received_at",
        story_id,
        minutes,
    )
    return [r[0] for r in records]


# ---- alerts ----

ALERT_COLUMNS = (
    "alert_id, kind, severity, scope, subject, coalesce(story_id, '') AS story_id, message, status,"
    " feedback_ids, created_at"
)

# One open alert per (scope, subject, kind): new evidence is appended, the severity
# only goes up. xmax = 0 tells a fresh insert from an update.
_UPSERT_ALERT = f"""
INSERT INTO alerts (alert_id, kind, severity, scope, subject, story_id, message, feedback_ids)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (scope, subject, kind) WHERE status = 'open' DO UPDATE SET
    feedback_ids = alerts.feedback_ids
        || ARRAY(SELECT x FROM unnest(EXCLUDED.feedback_ids) x WHERE x <> ALL (alerts.feedback_ids)),
    severity = CASE WHEN array_position(ARRAY['medium', 'high', 'critical'], EXCLUDED.severity)
                       > array_position(ARRAY['medium', 'high', 'critical'], alerts.severity)
                    THEN EXCLUDED.severity ELSE alerts.severity END,
    message = EXCLUDED.message,
    updated_at = now()
RETURNING {ALERT_COLUMNS}, (xmax = 0) AS created
"""


async def upsert_alert(
    conn: Conn,
    alert_id: str,
    kind: str,
    severity: str,
    scope: str,
    subject: str,
    story_id: str | None,
    message: str,
    feedback_ids: list[str],
) -> asyncpg.Record:
    return await conn.fetchrow(
        _UPSERT_ALERT, alert_id, kind, severity, scope, subject, story_id, message, feedback_ids
    )


async def handled_feedback(
    conn: Conn, scope: str, subject: str, kind: str, feedback_ids: list[str]
) -> set[str]:
    """The ids among feedback_ids that a resolved alert of (scope, subject, kind) already carried."""
    records = await conn.fetch(
        "SELECT DISTINCT x FROM alerts, unnest(feedback_ids) x WHERE scope = $1 AND subject = $2"
        " AND kind = $3 AND status = 'resolved' AND x = ANY($4::text[])",
        scope,
        subject,
        kind,
        feedback_ids,
    )
    return {r[0] for r in records}


async def list_alerts(
    conn: Conn, status: str | None, story_id: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ALERT_COLUMNS} FROM alerts WHERE ($1::text IS NULL OR status = $1)"
        " AND ($2::text IS NULL OR story_id = $2) ORDER BY created_at DESC, alert_id LIMIT $3",
        status,
        story_id,
        limit,
    )


async def resolve_alerts(conn: Conn, scope: str, subject: str, kind: str, note: str) -> list[str]:
    """Close the open alert of (scope, subject, kind), if any."""
    records = await conn.fetch(
        "UPDATE alerts SET status = 'resolved', resolved_at = now(), updated_at = now(), resolution_note = $4"
        " WHERE scope = $1 AND subject = $2 AND kind = $3 AND status = 'open' RETURNING alert_id",
        scope,
        subject,
        kind,
        note or None,
    )
    return [r[0] for r in records]


async def get_alert(conn: Conn, alert_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = $1", alert_id)


async def resolve_alert(conn: Conn, alert_id: str, note: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE alerts SET status = 'resolved', resolved_at = now(), updated_at = now(), resolution_note = $2"
        f" WHERE alert_id = $1 AND status = 'open' RETURNING {ALERT_COLUMNS}",
        alert_id,
        note or None,
    )


# ---- hidden items and moderation ----


async def hide_story(conn: Conn, story_id: str, reason: str) -> bool:
    """Hide a story until a moderator clears it; False when it was hidden already."""
    hidden = await conn.fetchval(
        "INSERT INTO hidden_items (item_type, item_id, reason) VALUES ('story', $1, $2)"
        " ON CONFLICT (item_type, item_id) WHERE cleared_at IS NULL DO NOTHING RETURNING id",
        story_id,
        reason,
    )
    return hidden is not None


async def unhide_story(conn: Conn, story_id: str) -> bool:
    cleared = await conn.fetchval(
        "UPDATE hidden_items SET cleared_at = now() WHERE item_type = 'story' AND item_id = $1"
        " AND cleared_at IS NULL RETURNING id",
        story_id,
    )
    return cleared is not None


MODERATION_COLUMNS = "id, story_id, reason, status, alert_ids, created_at, decision, note, decided_at"


async def enqueue_moderation(conn: Conn, story_id: str, reason: str, alert_id: str) -> None:
    await conn.execute(
        "INSERT INTO moderation_queue (story_id, reason, alert_ids) VALUES ($1, $2, ARRAY[$3])"
        " ON CONFLICT (story_id) WHERE status = 'pending' DO UPDATE SET alert_ids ="
        " CASE WHEN $3 = ANY (moderation_queue.alert_ids) THEN moderation_queue.alert_ids"
        " ELSE moderation_queue.alert_ids || $3 END",
        story_id,
        reason,
        alert_id,
    )


async def pending_moderation(conn: Conn, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {MODERATION_COLUMNS} FROM moderation_queue WHERE status = 'pending'"
        " ORDER BY created_at, id LIMIT $1",
        limit,
    )


async def decide_moderation(
    conn: Conn, story_id: str, status: str, decision: str, note: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"UPDATE moderation_queue SET status = $2, decision = $3, note = $4, decided_at = now()"
        f" WHERE story_id = $1 AND status = 'pending' RETURNING {MODERATION_COLUMNS}",
        story_id,
        status,
        decision,
        note or None,
    )


def aspects_json(aspects: Sequence[object]) -> str:
    return json.dumps([{"aspect": a.aspect, "polarity": a.polarity, "evidence": a.evidence} for a in aspects])


async def moderation_outcomes(conn: Conn, days: int) -> tuple[int, int]:
    """(stories a moderator kept hidden, stories cleared) among decisions of the last `days`."""
    row = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE status = 'kept_hidden') AS kept,"
        " count(*) FILTER (WHERE status = 'cleared') AS cleared"
        " FROM moderation_queue WHERE decided_at >= now() - make_interval(days => $1)",
        days,
    )
    return row["kept"], row["cleared"]


# ---- reading: summaries, a story's feedback, search ----

TOP_PROBLEMS = 10
_NEGATIVE = '$[*] ? (@.polarity == "negative")'


def _where(period: SummaryFilters, alias: str = "f") -> tuple[str, list]:
    """The rows a summary covers: ts in [start, end), and the optional equality filters."""
    p = period
    sql = (
        f"{alias}.ts >= $1 AND {alias}.ts < $2"
        f" AND ($3::text IS NULL OR {alias}.story_id = $3)"
        f" AND ($4::text IS NULL OR {alias}.age_group = $4)"
        f" AND ($5::text IS NULL OR {alias}.platform = $5)"
        f" AND ($6::text IS NULL OR {alias}.device_type = $6)"
    )
    return sql, [p.start, p.end, p.story_id, p.age_group, p.platform, p.device_type]


async def summary_totals(conn: Conn, period: SummaryFilters) -> asyncpg.Record:
    """n, rating, sentiment (averages), r1..r5, negative/neutral/positive (counts)."""
    where, args = _where(period)
    return await conn.fetchrow(
        f"SELECT count(*) AS n, coalesce(avg(rating), 0) AS rating,"
        f" coalesce(avg(sentiment_score), 0) AS sentiment,"
        f" count(*) FILTER (WHERE rating = 1) AS r1, count(*) FILTER (WHERE rating = 2) AS r2,"
        f" count(*) FILTER (WHERE rating = 3) AS r3, count(*) FILTER (WHERE rating = 4) AS r4,"
        f" count(*) FILTER (WHERE rating = 5) AS r5,"
        f" count(*) FILTER (WHERE sentiment_label = 'negative') AS negative,"
        f" count(*) FILTER (WHERE sentiment_label = 'neutral') AS neutral,"
        f" count(*) FILTER (WHERE sentiment_label = 'positive') AS positive FROM feedback f WHERE {where}",
        *args,
    )


async def top_problems(conn: Conn, period: SummaryFilters) -> list[tuple[str, int, int]]:
    """(aspect, negative mentions, positive mentions), most complained about first."""
    where, args = _where(period)
    records = await conn.fetch(
        f"SELECT a->>'aspect' AS aspect, count(*) FILTER (WHERE a->>'polarity' = 'negative') AS negative,"
        f" count(*) FILTER (WHERE a->>'polarity' = 'positive') AS positive"
        f" FROM feedback f, jsonb_array_elements(f.aspects) a WHERE {where}"
        f" GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT {TOP_PROBLEMS}",
        *args,
    )
    return [(r["aspect"], r["negative"], r["positive"]) for r in records]


async def satisfaction_trend(conn: Conn, period: SummaryFilters) -> list[asyncpg.Record]:
    """Per (day, age group, platform): day, age_group, platform, n, rating, sentiment, sentiments."""
    where, args = _where(period)
    return await conn.fetch(
        f"SELECT to_char((f.ts AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day,"
        f" coalesce(f.age_group, '') AS age_group, coalesce(f.platform, '') AS platform, count(*) AS n,"
        f" avg(f.rating) AS rating, coalesce(avg(f.sentiment_score), 0) AS sentiment,"
        f" count(f.sentiment_score) AS sentiments"
        f" FROM feedback f WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        *args,
    )


async def story_stats(conn: Conn, period: SummaryFilters) -> list[asyncpg.Record]:
    """Per story: n, rating_sum, sentiments, sentiment_sum, problems, comments."""
    where, args = _where(period)
    return await conn.fetch(
        f"SELECT f.story_id, count(*) AS n, sum(f.rating) AS rating_sum,"
        f" count(f.sentiment_score) AS sentiments, coalesce(sum(f.sentiment_score), 0) AS sentiment_sum,"
        f" count(*) FILTER (WHERE jsonb_path_exists(f.aspects, '{_NEGATIVE}')) AS problems,"
        f" count(*) FILTER (WHERE f.comment <> '') AS comments"
        f" FROM feedback f WHERE {where} GROUP BY f.story_id",
        *args,
    )


async def complaints(conn: Conn, period: SummaryFilters) -> list[asyncpg.Record]:
    """Every negative aspect in the period: story_id, aspect, evidence."""
    where, args = _where(period)
    return await conn.fetch(
        f"SELECT f.story_id, a->>'aspect' AS aspect, a->>'evidence' AS evidence"
        f" FROM feedback f, jsonb_array_elements(f.aspects) a"
        f" WHERE {where} AND a->>'polarity' = 'negative'",
        *args,
    )


async def story_meta(conn: Conn, story_ids: Sequence[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT story_id, universes, characters, theme, combination FROM story_meta"
        " WHERE story_id = ANY($1::text[])",
        list(story_ids),
    )


FEEDBACK_COLUMNS = (
    "f.feedback_id, f.user_id, f.story_id, f.ts, f.rating, f.comment, f.categories, f.child_age,"
    " f.device_type, f.platform, f.sentiment_score, f.sentiment_label, f.aspects, f.parts, f.analyzed"
)
_HEADLINE = 'StartSel=<b>, StopSel=</b>, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" ... "'


async def story_feedback(
    conn: Conn, story_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[asyncpg.Record]:
    """A story's feedback newest first, after the (ts, feedback_id) key of a previous page."""
    after_ts, after_id = after or (None, None)
    return await conn.fetch(
        f"SELECT {FEEDBACK_COLUMNS} FROM feedback f WHERE f.story_id = $1"
        " AND ($2::timestamptz IS NULL OR (f.ts, f.feedback_id) < ($2, $3::text))"
        " ORDER BY f.ts DESC, f.feedback_id DESC LIMIT $4",
        story_id,
        after_ts,
        after_id,
        limit,
    )


_SEARCH = f"""
WITH query AS (SELECT websearch_to_tsquery('english', $1) AS q),
hits AS (
    SELECT {FEEDBACK_COLUMNS}, ts_rank(f.search, query.q) AS rank
    FROM feedback f, query
    WHERE f.search @@ query.q
      AND ($2::text IS NULL OR f.story_id = $2)
      AND ($3::int IS NULL OR f.rating >= $3)
      AND ($4::int IS NULL OR f.rating <= $4)
      AND ($5::timestamptz IS NULL OR f.ts >= $5)
      AND ($6::timestamptz IS NULL OR f.ts < $6)
      AND ($7::text IS NULL OR f.sentiment_label = $7)
)
SELECT hits.*, ts_headline('english', hits.comment, query.q, '{_HEADLINE}') AS snippet
FROM hits, query
WHERE $8::real IS NULL OR hits.rank < $8::real OR (hits.rank = $8::real AND hits.feedback_id > $9::text)
ORDER BY hits.rank DESC, hits.feedback_id
LIMIT $10
"""


async def search_feedback(
    conn: Conn, filters: SearchFilters, after: tuple[float, str] | None, limit: int
) -> list[asyncpg.Record]:
    """Full-text hits best first (rank, snippet and the feedback columns), after the
    (rank, feedback_id) key of a previous page."""
    f = filters
    after_rank, after_id = after or (None, None)
    return await conn.fetch(
        _SEARCH,
        f.q,
        f.story_id,
        f.min_rating,
        f.max_rating,
        f.start,
        f.end,
        f.sentiment_label,
        after_rank,
        after_id,
        limit,
    )
