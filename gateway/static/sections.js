// The sections of the dashboard: each takes API answers and draws its part of the page.
import * as api from "./api.js";
import { PALETTE, barList, columnChart, compact, dayLabel, funnelChart, heatmap, lineChart, sparkline } from "./charts.js";
import { draw, forget } from "./redraw.js";
import { addDays, duration, el, nameOf, percent, renderKpis, renderList, today } from "./widgets.js";

const BAR_LISTS = {
  top_universes: PALETTE[0], top_characters: PALETTE[1], top_universe_pairs: PALETTE[5],
  top_themes: PALETTE[2], top_moral_lessons: PALETTE[6], device_split: PALETTE[4], platform_split: PALETTE[3],
};

export function renderActivity(board) {
  const daily = board.active_users.daily;
  const partial = board.end_date === today() ? board.end_date : null; // today is not over yet
  draw("dau", () => lineChart(document.getElementById("chart-dau"), {
    series: [{ ...daily, label: "Daily active users", color: PALETTE[0] }], partial,
    label: `Daily active users from ${board.start_date} to ${board.end_date}: ` +
      `peak ${compact(Math.max(0, ...daily.points.map((p) => p.value)))}`,
  }));
  const creations = board.story_creations.points;
  draw("creations", () => columnChart(document.getElementById("chart-creations"), {
    points: creations, name: "story_creation", color: PALETTE[2], partial,
    label: `Stories created per day: ${compact(creations.reduce((a, p) => a + p.value, 0))} in the range`,
  }));
  const host = document.getElementById("events-by-type");
  const series = board.events_by_type
    .map((s) => ({ ...s, total: s.points.reduce((a, p) => a + p.value, 0) }))
    .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
  if (!series.length) {
    host.replaceChildren(el("p", { class: "empty" }, "No events in this range."));
    forget("events");
    return;
  }
  host.replaceChildren(...series.map((s) => el("figure", { class: "multiple", "data-series": s.name, "data-total": s.total }, [
    el("figcaption", {}, [el("span", {}, nameOf(s.name)), el("strong", {}, compact(s.total))]),
    el("div", { class: "spark-host" }),
  ])));
  draw("events", () => series.forEach((s, i) => sparkline(host.children[i].querySelector(".spark-host"), {
    points: s.points, name: s.name, color: PALETTE[i % PALETTE.length],
    label: `${nameOf(s.name)}: ${compact(s.total)} events, per day`,
  })));
}

export function renderContent(board) {
  for (const [field, color] of Object.entries(BAR_LISTS)) {
    const host = document.getElementById(`bars-${field}`);
    const items = board[field];
    const title = host.closest(".card").querySelector("h3").firstChild.textContent.trim();
    const label = field.endsWith("_split") ? `By ${field.split("_")[0]}` : title;
    if (!items.length) {
      host.replaceChildren(el("p", { class: "empty" }, "Nothing yet for these filters."));
      forget(field);
      continue;
    }
    draw(field, () => barList(host, {
      items, name: field, color, labelOf: nameOf,
      label: `${label}: ${items.map((i) => `${nameOf(i.key)} ${compact(i.value)}`).join(", ")}`,
    }));
  }
}

export function renderKpiRow(board) {
  const creations = board.story_creations.points.reduce((a, p) => a + p.value, 0);
  renderKpis(document.getElementById("kpis"), [
    { key: "dau", raw: board.active_users.dau, label: "Active today", value: compact(Number(board.active_users.dau)), note: `on ${dayLabel(board.end_date)}` },
    { key: "wau", raw: board.active_users.wau, label: "Active this week", value: compact(Number(board.active_users.wau)), note: "last 7 days" },
    { key: "mau", raw: board.active_users.mau, label: "Active this month", value: compact(Number(board.active_users.mau)), note: "last 30 days" },
    { key: "stickiness", label: "Stickiness", value: percent(board.active_users.stickiness), note: "average DAU ÷ MAU" },
    { key: "stories", raw: creations, label: "Stories created", value: compact(creations), note: "in the range" },
    { key: "creation_time", label: "Time to create", value: duration(board.creation_time.median), note: `median · p90 ${duration(board.creation_time.p90)}` },
  ]);
}

export function renderHealth(board) {
  const ing = board.ingestion;
  const failed = Number(ing.failed_events);
  const total = Number(ing.total_events);
  const failureRate = failed + total ? failed / (failed + total) : 0;
  const healthy = failureRate < 0.01 && ing.processing_lag_p99_seconds < 5;
  const pill = document.getElementById("health-pill");
  pill.textContent = healthy ? "Healthy" : "Needs a look";
  pill.className = `pill ${healthy ? "ok" : "warn"}`;
  renderList(document.getElementById("ingestion"), [
    ["events_per_second", "Events stored per second", compact(ing.events_per_second), ing.events_per_second],
    ["lag_p50", "Processing lag, median", `${compact(ing.processing_lag_p50_seconds * 1000)} ms`],
    ["lag_p99", "Processing lag, p99", `${compact(ing.processing_lag_p99_seconds * 1000)} ms`],
    ["total_events", "Events in the range", compact(total), total],
    ["failed_events", "Rejected events", `${compact(failed)} (${percent(failureRate)})`, failed],
  ]);
  const rt = board.realtime;
  document.getElementById("realtime-window").textContent = `last ${rt.window_minutes} minutes, all users`;
  renderList(document.getElementById("realtime"), [
    ["events", "Events", compact(Number(rt.events)), rt.events],
    ["active_users", "Active users", compact(Number(rt.active_users)), rt.active_users],
  ]);
  draw("realtime", () => columnChart(document.getElementById("chart-realtime"), {
    points: rt.events_per_minute.points, name: "events_per_minute", color: PALETTE[1], height: 140,
    label: `Events per minute over the last ${rt.window_minutes} minutes`,
  }));
}

export function renderFunnel(reportBody) {
  const table = reportBody.tables.find((t) => t.name === "funnel");
  const col = (name) => table.columns.indexOf(name);
  const steps = table.rows.map((r) => ({
    name: r[col("name")], users: r[col("users")],
    fromPrevious: r[col("conversion_from_previous")], fromFirst: r[col("conversion_from_first")],
  }));
  const host = document.getElementById("chart-funnel");
  const s = reportBody.summary;
  if (!steps.length || !steps[0].users) {
    host.replaceChildren(el("p", { class: "empty" }, "No sessions in this range."));
    forget("funnel");
  } else {
    draw("funnel", () => funnelChart(host, {
      steps, labelOf: nameOf,
      label: `Story funnel: ${steps.map((step) => `${nameOf(step.name)} ${step.users}`).join(", ")}`,
    }));
  }
  document.getElementById("funnel-summary").textContent =
    `${compact(s.entered)} users started a session, ${compact(s.converted)} completed a story (${percent(s.conversion)}).`;
}

export function renderRetention(reportBody, unit) {
  const table = reportBody.tables.find((t) => t.name === "retention");
  const periods = table.columns.filter((c) => c.startsWith("period_")).length;
  const step = unit === "week" ? 7 : 1;
  const now = today();
  const rows = table.rows.map((r) => ({
    cohort: r[0], size: r[1], cells: r.slice(2),
    future: r.slice(2).map((_, p) => addDays(r[0], p * step) > now),
  }));
  const host = document.getElementById("chart-retention");
  if (!rows.length) {
    host.replaceChildren(el("p", { class: "empty" }, "No new users in this range."));
    forget("retention");
    return;
  }
  const rowLabel = (row) => `${unit === "week" ? "Week of " : ""}${dayLabel(row.cohort)} · ${compact(row.size)}`;
  draw("retention", () => heatmap(host, {
    rows, periods, rowLabel, unit: unit === "week" ? "Week" : "Day",
    label: `Retention by ${unit} cohort: ${rows.length} cohorts, ${periods} periods`,
  }));
}

// experimentKeys: the experiments listed on the page (running and stopped), one link pair each.
export function renderReports(filters, experimentKeys) {
  const body = document.querySelector("#reports tbody");
  const link = (href, text, label) => el("a", { href, "aria-label": label }, text);
  body.replaceChildren(...api.REPORTS.map((r) => {
    const keys = r.type === "experiment" ? experimentKeys : [null];
    const cells = keys.length ? keys.flatMap((key) => {
      const params = api.reportParams(r.type, filters, key ? { experiment_key: key } : {});
      const suffix = key ? ` (${key})` : "";
      return [
        link(api.reportUrl(r.type, params), `JSON${suffix}`, `${r.title} report${suffix} as JSON`),
        link(api.reportUrl(r.type, params, true), `CSV${suffix}`, `${r.title} report${suffix} as CSV`),
      ];
    }) : [el("span", { class: "note" }, "needs an experiment that has run")];
    return el("tr", { "data-report": r.type }, [
      el("th", { scope: "row" }, r.title), el("td", {}, r.about), el("td", { class: "links" }, cells),
    ]);
  }));
}

