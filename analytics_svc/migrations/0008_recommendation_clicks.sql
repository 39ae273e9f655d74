-- Recommendations shown and clicked per day, kind, model version and device context:
-- click-through per kind and per model version (GetRecommendationClickThrough). Counts
-- only, no user ids. Written by the nightly rollup with the other daily tables.
CREATE TABLE IF NOT EXISTS daily_recommendation_clicks (
    day                  date   NOT NULL,
    recommendation_type  text   NOT NULL,
    model_version        text   NOT NULL,
    age_group            text   NOT NULL,
    platform             text   NOT NULL,
    device_type          text   NOT NULL,
    shown                bigint NOT NULL,
    clicked              bigint NOT NULL,
    PRIMARY KEY (day, recommendation_type, model_version, age_group, platform, device_type)
);

-- Days already rolled up get their rows now (same SELECT as queries/daily.py), and rollup
-- format 3 says so; days of format 1 stay raw for every reader until rolled up again.
INSERT INTO daily_recommendation_clicks
SELECT (ts AT TIME ZONE 'UTC')::date, coalesce(props->>'recommendation_type', ''),
       coalesce(props->>'model_version', ''), coalesce(age_group, ''), coalesce(platform, ''),
       coalesce(device_type, ''),
       count(*) FILTER (WHERE event_type = 'recommendation_shown'),
       count(*) FILTER (WHERE event_type = 'recommendation_clicked')
FROM events
WHERE event_type IN ('recommendation_shown', 'recommendation_clicked')
  AND (ts AT TIME ZONE 'UTC')::date IN (SELECT day FROM rollup_days WHERE version = 2)
GROUP BY 1, 2, 3, 4, 5, 6;
UPDATE rollup_days SET version = 3 WHERE version = 2;
