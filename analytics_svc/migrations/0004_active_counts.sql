-- DAU/WAU/MAU per day and filter combination ('*' = any value), computed by the nightly
-- rollup from daily_user_activity of the 30 days ending that day: the dashboard's
-- active-user figures become a lookup instead of distinct counts over ~30 days of rows.
-- Valid only when the day was rolled up after every day of its window (checked by the
-- reader against rollup_days.rolled_at; otherwise it counts from daily_user_activity).
CREATE TABLE IF NOT EXISTS daily_active_counts (
    day          date   NOT NULL,
    age_group    text   NOT NULL,
    platform     text   NOT NULL,
    device_type  text   NOT NULL,
    dau          bigint NOT NULL,
    wau          bigint NOT NULL,
    mau          bigint NOT NULL,
    PRIMARY KEY (day, age_group, platform, device_type)
);
