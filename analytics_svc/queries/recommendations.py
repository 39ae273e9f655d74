"""SQL of recommendation click-through: shown and clicked events per kind and model version,
from daily_recommendation_clicks for rolled-up days and raw events for the others."""

from __future__ import annotations

import asyncpg

from analytics_svc.queries import daily
from analytics_svc.queries.params import Binds, dims_filter, fetch_analytical


async def clicks(pool: asyncpg.Pool, cov: daily.Coverage, filters) -> list[asyncpg.Record]:
    """Rows (recommendation_type, model_version, shown, clicked) of the covered days."""
    binds = Binds()
    src = daily.source("daily_recommendation_clicks", cov, binds)
    sql = f"""
        SELECT recommendation_type, model_version,
               sum(shown)::bigint AS shown, sum(clicked)::bigint AS clicked
        FROM {src} c WHERE {dims_filter(binds, filters)}
        GROUP BY 1, 2
    """
    return await fetch_analytical(pool, sql, *binds.values)
