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
