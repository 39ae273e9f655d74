// The page's calls to the gateway's HTTP API, and the report links.

export const FUNNEL_STEPS = ["session_start", "story_started", "story_creation", "story_completed"];

export const REPORTS = [
  { type: "story_creation", title: "Story creation", about: "Stories, creators and creation time per day" },
  { type: "feature_usage", title: "Feature usage", about: "Uses and users of each feature" },
  { type: "funnel", title: "Story funnel", about: "Session → story started → created → completed" },
  { type: "retention", title: "Retention", about: "Weekly cohorts and how many come back" },
  { type: "engagement", title: "Engagement", about: "Sessions, length and events per session" },
  { type: "content", title: "Content", about: "Universes, characters, themes, lessons and trends" },
  { type: "performance", title: "Performance", about: "RPC latency, errors and ingestion lag" },
  { type: "experiment", title: "Experiment", about: "Variants of one A/B experiment" },
  { type: "churn_risk", title: "Churn risk", about: "Predicted return, children at risk and why, by age, platform and cohort" },
];

// Filters as query parameters; empty values are left out (the API's defaults apply).
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== "" && one !== undefined && one !== null) search.append(key, String(one));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Extra parameters each report gets from the page (the funnel's steps, retention's unit).
export function reportParams(type, filters, extra = {}) {
  const params = { ...filters, ...extra };
  if (type === "funnel") params.steps = FUNNEL_STEPS;
  if (type === "retention") params.granularity = extra.granularity || "week";
  if (type === "churn_risk") { // the latest predictions: dates would select cohorts, not a period
    delete params.start_date;
    delete params.end_date;
  }
  return params;
}

export function reportUrl(type, params, csv = false) {
  return `/api/analytics/reports/${type}${csv ? "/csv" : ""}${query(params)}`;
}

export async function getJson(url, signal) {
  const response = await fetch(url, { signal, headers: { accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    // The message usually names the fields already; add the details it leaves out.
    const message = body.message || `HTTP ${response.status}`;
    const extra = (body.details || []).map((d) => `${d.field}: ${d.description}`).filter((d) => !message.includes(d));
    throw new Error(extra.length ? `${message} (${extra.join("; ")})` : message);
  }
  return body;
}

export const dashboard = (filters, signal) => getJson(`/api/analytics/dashboard${query(filters)}`, signal);

// The other services' figures, with the same dates and filters (each through its own RPC's route).
export const feedbackSummaryUrl = (filters) => `/api/feedback/summary${query(filters)}`;
export const moderationQueueUrl = () => `/api/moderation/queue${query({ page_size: 100 })}`;
export const clickThroughUrl = (filters) => `/api/analytics/recommendations${query(filters)}`;
export const experimentsUrl = () => "/api/experiments";
export const personalizationUrl = () => "/api/recommendations/overview/personalization";

// An experiment's report over its own run (start to stop, or to today while it runs), with
// the page's filters: a stopped experiment's figures do not depend on the page's dates.
export const MAX_DAYS = 731; // the API's longest range
export function experimentReportParams(experiment, filters, today) {
  const end = (experiment.stopped_at || "").slice(0, 10) || today;
  let start = (experiment.started_at || "").slice(0, 10) || end;
  const earliest = new Date(Date.parse(`${end}T00:00:00Z`) - (MAX_DAYS - 1) * 86400000).toISOString().slice(0, 10);
  if (start < earliest) start = earliest;
  const { age_group, platform, device_type } = filters;
  return { start_date: start, end_date: end, age_group, platform, device_type, experiment_key: experiment.key };
}
