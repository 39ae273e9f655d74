// The dashboard page: reads the filters, fetches the dashboard and two reports, draws them.
import * as api from "./api.js";
import { PALETTE, barList, columnChart, compact, dayLabel, funnelChart, heatmap, lineChart, sparkline } from "./charts.js";
import { el, duration, nameOf, percent, renderKpis, renderList } from "./widgets.js";

const FILTERS = ["start_date", "end_date", "age_group", "platform", "device_type"];
const BAR_LISTS = {
  top_universes: PALETTE[0], top_characters: PALETTE[1], top_universe_pairs: PALETTE[5],
  top_themes: PALETTE[2], top_moral_lessons: PALETTE[6], device_split: PALETTE[4], platform_split: PALETTE[3],
};
const form = document.getElementById("filters");
const redraws = new Map(); // chart id → function drawing it again at the current width
let inFlight = null;
let generation = 0;

function readFilters() {
  return Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value]));
}

function draw(id, render) {
  redraws.set(id, render);
  render();
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

function addDays(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function daysBetween(start, end) {
  return Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86400000) + 1;
}

// ---- sections -------------------------------------------------------------------------

function renderActivity(board) {
  const daily = board.active_users.daily;
  draw("dau", () => lineChart(document.getElementById("chart-dau"), {
    series: [{ ...daily, label: "Daily active users", color: PALETTE[0] }],
    label: `Daily active users from ${board.start_date} to ${board.end_date}: ` +
      `peak ${compact(Math.max(0, ...daily.points.map((p) => p.value)))}`,
  }));
  const creations = board.story_creations.points;
  draw("creations", () => columnChart(document.getElementById("chart-creations"), {
    points: creations, name: "story_creation", color: PALETTE[2],
    label: `Stories created per day: ${compact(creations.reduce((a, p) => a + p.value, 0))} in the range`,
  }));
  const host = document.getElementById("events-by-type");
  const series = board.events_by_type
    .map((s) => ({ ...s, total: s.points.reduce((a, p) => a + p.value, 0) }))
    .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
  if (!series.length) {
    host.replaceChildren(el("p", { class: "empty" }, "No events in this range."));
    redraws.delete("events");
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

function renderContent(board) {
  for (const [field, color] of Object.entries(BAR_LISTS)) {
    const host = document.getElementById(`bars-${field}`);
    const items = board[field];
    const title = host.closest(".card").querySelector("h3").firstChild.textContent.trim();
    const label = field.endsWith("_split") ? `By ${field.split("_")[0]}` : title;
    if (!items.length) {
      host.replaceChildren(el("p", { class: "empty" }, "Nothing yet for these filters."));
      redraws.delete(field);
      continue;
    }
    draw(field, () => barList(host, {
      items, name: field, color, labelOf: nameOf,
      label: `${label}: ${items.map((i) => `${nameOf(i.key)} ${compact(i.value)}`).join(", ")}`,
    }));
  }
}

function renderKpiRow(board) {
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

function renderHealth(board) {
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

function renderExperiments(board) {
  const host = document.getElementById("experiments");
  const running = board.running_experiments;
  if (!running.length) {
    host.replaceChildren(el("p", { class: "empty", "data-empty": "experiments" },
      "No experiments are running right now. When one starts, its variants and exposed users show here."));
    return;
  }
  host.replaceChildren(el("ul", { class: "experiments" }, running.map((x) => el("li", { "data-key": x.key }, [
    el("strong", {}, x.key),
    el("span", {}, x.description),
    el("span", { class: "chips" }, x.variants.map((v) => el("span", { class: "chip" }, v))),
    el("span", { class: "note" }, `${compact(Number(x.exposed_users))} users exposed · since ${x.started_at.slice(0, 10)}`),
  ]))));
}

function renderFunnel(reportBody) {
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
    redraws.delete("funnel");
  } else {
    draw("funnel", () => funnelChart(host, {
      steps, labelOf: nameOf,
      label: `Story funnel: ${steps.map((step) => `${nameOf(step.name)} ${step.users}`).join(", ")}`,
    }));
  }
  document.getElementById("funnel-summary").textContent =
    `${compact(s.entered)} users started a session, ${compact(s.converted)} completed a story (${percent(s.conversion)}).`;
}

function renderRetention(reportBody, unit) {
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
    redraws.delete("retention");
    return;
  }
  const rowLabel = (row) => `${unit === "week" ? "Week of " : ""}${dayLabel(row.cohort)} · ${compact(row.size)}`;
  draw("retention", () => heatmap(host, {
    rows, periods, rowLabel, unit: unit === "week" ? "Week" : "Day",
    label: `Retention by ${unit} cohort: ${rows.length} cohorts, ${periods} periods`,
  }));
}

function renderReports(filters, board) {
  const body = document.querySelector("#reports tbody");
  const link = (href, text, label) => el("a", { href, "aria-label": label }, text);
  body.replaceChildren(...api.REPORTS.map((r) => {
    const keys = r.type === "experiment" ? board.running_experiments.map((x) => x.key) : [null];
    const cells = keys.length ? keys.flatMap((key) => {
      const params = api.reportParams(r.type, filters, key ? { experiment_key: key } : {});
      const suffix = key ? ` (${key})` : "";
      return [
        link(api.reportUrl(r.type, params), `JSON${suffix}`, `${r.title} report${suffix} as JSON`),
        link(api.reportUrl(r.type, params, true), `CSV${suffix}`, `${r.title} report${suffix} as CSV`),
      ];
    }) : [el("span", { class: "note" }, "needs a running experiment")];
    return el("tr", { "data-report": r.type }, [
      el("th", { scope: "row" }, r.title), el("td", {}, r.about), el("td", { class: "links" }, cells),
    ]);
  }));
}

// ---- loading --------------------------------------------------------------------------

function setState(state, message) {
  document.body.dataset.state = state;
  document.getElementById("main").setAttribute("aria-busy", String(state === "loading"));
  document.getElementById("status").textContent = message;
}

function showError(error) {
  const box = document.getElementById("error");
  box.hidden = !error;
  box.textContent = error ? `Could not load the figures: ${error.message}` : "";
}

async function load() {
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const filters = readFilters();
  if (filters.start_date && filters.end_date && filters.start_date > filters.end_date) {
    showError(new Error("the start date is after the end date"));
    setState("error", "Pick a start date on or before the end date.");
    return;
  }
  const unit = document.getElementById("retention-unit").value;
  const days = filters.start_date && filters.end_date ? daysBetween(filters.start_date, filters.end_date) : 30;
  const periods = unit === "week" ? Math.min(12, Math.max(1, Math.ceil(days / 7))) : Math.min(14, Math.max(1, days - 1));
  history.replaceState(null, "", api.query(filters) || location.pathname);
  setState("loading", "Loading the figures…");
  try {
    // The report URLs stay on the chart hosts: where each figure came from, for people and tests.
    const funnelUrl = api.reportUrl("funnel", api.reportParams("funnel", filters));
    const retentionUrl = api.reportUrl("retention", api.reportParams("retention", filters, { granularity: unit, periods }));
    const [board, funnel, retention] = await Promise.all([
      api.dashboard(filters, controller.signal),
      api.getJson(funnelUrl, controller.signal),
      api.getJson(retentionUrl, controller.signal),
    ]);
    if (controller !== inFlight) return;
    if (generation === 0) performance.mark("sv-dashboard-data");
    // The API resolved empty dates to its defaults: show them, and use them in the links.
    form.elements.start_date.value = board.start_date;
    form.elements.end_date.value = board.end_date;
    const resolved = readFilters();
    renderKpiRow(board);
    renderActivity(board);
    renderContent(board);
    renderHealth(board);
    renderExperiments(board);
    document.getElementById("chart-funnel").dataset.url = funnelUrl;
    document.getElementById("chart-retention").dataset.url = retentionUrl;
    renderFunnel(funnel);
    renderRetention(retention, unit);
    renderReports(resolved, board);
    showError(null);
    document.getElementById("generated").textContent = `Figures from ${board.generated_at.replace("T", " ").replace("Z", " UTC")}`;
    generation += 1;
    document.body.dataset.generation = String(generation);
    if (generation === 1) {
      performance.mark("sv-dashboard-rendered");
      performance.measure("sv-dashboard-draw", "sv-dashboard-data", "sv-dashboard-rendered");
    }
    setState("ready", `Showing ${dayLabel(board.start_date)} to ${dayLabel(board.end_date)}.`);
  } catch (error) {
    if (error.name === "AbortError") return;
    showError(error);
    setState("error", "The figures could not be loaded.");
  }
}

function quickRange(days) {
  const end = form.elements.end_date.value || today();
  form.elements.end_date.value = end;
  form.elements.start_date.value = addDays(end, -(days - 1));
  load();
}

function start() {
  const params = new URLSearchParams(location.search);
  for (const name of FILTERS) if (params.has(name)) form.elements[name].value = params.get(name);
  form.addEventListener("change", load);
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  // After a reset the fields are empty: the API's defaults (last 30 days, everyone) apply.
  form.addEventListener("reset", () => setTimeout(load));
  for (const button of form.querySelectorAll("[data-days]")) {
    button.addEventListener("click", () => quickRange(Number(button.dataset.days)));
  }
  document.getElementById("retention-unit").addEventListener("change", load);
  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => redraws.forEach((redraw) => redraw()), 120);
  });
  load();
}

start();
