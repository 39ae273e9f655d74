// The dashboard page: reads the filters, fetches the dashboard, two reports, the feedback
// summary, the moderation queue, recommendation click-through and the experiments, draws them.
import * as api from "./api.js";
import { dayLabel } from "./charts.js";
import { renderChurn } from "./churn.js";
import * as experiments from "./experiments.js";
import { renderFeedback } from "./feedback.js";
import { renderRecommendations } from "./recommendations.js";
import { renderPersonalization } from "./personalization.js";
import * as sections from "./sections.js";
import { addDays, daysBetween, today } from "./widgets.js";

const FILTERS = ["start_date", "end_date", "age_group", "platform", "device_type"];
const form = document.getElementById("filters");
let inFlight = null;
let detailInFlight = null;
let generation = 0;
// The experiment whose report is open (?experiment=KEY), and the experiments listed.
let openExperiment = new URLSearchParams(location.search).get("experiment") || "";
let listed = [];

function readFilters() {
  return Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value]));
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

// A part of the page fed by another service: its failure is shown in its section only.
const settle = (promise) => promise.then((value) => ({ value }), (error) => {
  if (error.name === "AbortError") throw error;
  return { error };
});

function sectionError(id, error) {
  const box = document.getElementById(id);
  box.hidden = !error;
  box.textContent = error ? `This section could not be loaded: ${error.message}` : "";
  return !error;
}

function syncUrl(filters) {
  history.replaceState(null, "", api.query({ ...filters, experiment: openExperiment }) || location.pathname);
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
  syncUrl(filters);
  setState("loading", "Loading the figures…");
  try {
    // The report URLs stay on the chart hosts: where each figure came from, for people and tests.
    const funnelUrl = api.reportUrl("funnel", api.reportParams("funnel", filters));
    const retentionUrl = api.reportUrl("retention", api.reportParams("retention", filters, { granularity: unit, periods }));
    const get = (url) => api.getJson(url, controller.signal);
    const [board, funnel, retention, feedback, reco, experimentList, personal] = await Promise.all([
      api.dashboard(filters, controller.signal),
      get(funnelUrl),
      get(retentionUrl),
      settle(Promise.all([get(api.feedbackSummaryUrl(filters)), get(api.moderationQueueUrl())])),
      settle(get(api.clickThroughUrl(filters))),
      settle(get(api.experimentsUrl())),
      settle(get(api.personalizationUrl())),
    ]);
    if (controller !== inFlight) return;
    if (generation === 0) performance.mark("sv-dashboard-data");
    // The API resolved empty dates to its defaults: show them, and use them in the links.
    form.elements.start_date.value = board.start_date;
    form.elements.end_date.value = board.end_date;
    const resolved = readFilters();
    sections.renderKpiRow(board);
    sections.renderActivity(board);
    sections.renderContent(board);
    sections.renderHealth(board);
    renderChurn(board, api.reportUrl("churn_risk", api.reportParams("churn_risk", resolved)));
    document.getElementById("chart-funnel").dataset.url = funnelUrl;
    document.getElementById("chart-retention").dataset.url = retentionUrl;
    sections.renderFunnel(funnel);
    sections.renderRetention(retention, unit);
    if (sectionError("feedback-error", feedback.error)) {
      renderFeedback(feedback.value[0], feedback.value[1], board, api.feedbackSummaryUrl(resolved));
    }
    if (sectionError("reco-error", reco.error)) renderRecommendations(reco.value, api.clickThroughUrl(resolved));
    if (sectionError("personal-error", personal.error)) renderPersonalization(personal.value, api.personalizationUrl());
    listed = experimentList.error ? [] : experiments.openable(experimentList.value.experiments);
    if (sectionError("experiments-error", experimentList.error)) {
      lastBoard = board;
      renderExperimentList();
      openDetail(resolved);
    }
    sections.renderReports(resolved, listed.map((x) => x.key));
    showError(null);
    const source = board.source ? ` · daily figures from ${board.source}` : "";
    document.getElementById("generated").textContent =
      `Figures from ${board.generated_at.replace("T", " ").replace("Z", " UTC")}${source}`;
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

let lastBoard = null;
function renderExperimentList() {
  experiments.renderExperimentList(listed, lastBoard, openExperiment, openExperimentReport);
}

function openExperimentReport(key) {
  openExperiment = key;
  const filters = readFilters();
  syncUrl(filters);
  renderExperimentList();
  openDetail(filters, true);
}

// The open experiment's report, over its own run, with the page's filters.
async function openDetail(filters, focus = false) {
  detailInFlight?.abort();
  const host = document.getElementById("experiment-detail");
  const experiment = listed.find((x) => x.key === openExperiment);
  if (!experiment) {
    host.dataset.state = "ready";
    experiments.renderExperimentPrompt(openExperiment
      ? `No experiment ${openExperiment} has run. Open one of those above.`
      : undefined);
    return;
  }
  const controller = new AbortController();
  detailInFlight = controller;
  host.dataset.state = "loading";
  const params = api.experimentReportParams(experiment, filters, today());
  const links = { json: api.reportUrl("experiment", params), csv: api.reportUrl("experiment", params, true) };
  try {
    const report = await api.getJson(links.json, controller.signal);
    if (controller !== detailInFlight) return;
    experiments.renderExperimentDetail(experiment, report, links);
    host.dataset.state = "ready";
    if (focus) document.getElementById("experiment-title").focus();
  } catch (error) {
    if (error.name === "AbortError") return;
    experiments.renderExperimentPrompt(`The report of ${experiment.key} could not be loaded: ${error.message}`);
    host.dataset.state = "error";
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
  load();
}

start();
