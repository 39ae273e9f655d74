// Experiments: every running or stopped experiment (GET /api/experiments), and the report of
// the one opened (GET /api/analytics/reports/experiment over the experiment's own run).
import { compact, dayLabel } from "./charts.js";
import { el, nameOf, percent } from "./widgets.js";

const SHOWN = ["running", "stopped"]; // drafts have no exposures, hence no report yet

// The experiments worth opening: running ones first, then the most recently stopped.
export function openable(experiments) {
  const order = (x) => (x.status === "running" ? `0 ${x.started_at}` : `1 ${x.stopped_at}`);
  return experiments.filter((x) => SHOWN.includes(x.status))
    .sort((a, b) => (a.status === b.status ? order(b).localeCompare(order(a)) : order(a).localeCompare(order(b))));
}

export function renderExperimentList(experiments, board, openKey, onOpen) {
  const host = document.getElementById("experiments");
  const exposed = new Map(board.running_experiments.map((x) => [x.key, Number(x.exposed_users)]));
  if (!experiments.length) {
    host.replaceChildren(el("p", { class: "empty", "data-empty": "experiments" },
      "No experiment has run yet. Once one starts, it shows here with its variants and users, and stays here after it stops."));
    return;
  }
  host.replaceChildren(el("ul", { class: "experiments" }, experiments.map((x) => {
    const open = el("button", {
      type: "button", class: "open", "data-open": x.key, "aria-controls": "experiment-detail",
      "aria-pressed": String(x.key === openKey),
    }, x.key === openKey ? "Shown below" : "Open report");
    open.addEventListener("click", () => onOpen(x.key));
    const when = x.status === "running"
      ? `running since ${day(x.started_at)}${exposed.has(x.key) ? ` · ${compact(exposed.get(x.key))} users exposed` : ""}`
      : `ran ${day(x.started_at)} – ${day(x.stopped_at)}`;
    return el("li", { "data-key": x.key, "data-status": x.status }, [
      el("span", { class: "item-head" }, [el("strong", {}, x.key), el("span", { class: `pill ${x.status}` }, x.status)]),
      el("span", {}, x.description),
      el("span", { class: "chips" }, x.variants.map((v) => el("span", { class: "chip" }, v.key))),
      el("span", { class: "note" }, when),
      open,
    ]);
  })));
}

export function renderExperimentDetail(experiment, report, links) {
  const host = document.getElementById("experiment-detail");
  host.dataset.key = experiment.key;
  host.dataset.url = links.json;
  const s = report.summary;
  const variants = table(report, "variants");
  const results = table(report, "results");
  const control = variants.rows[0]?.variant; // the first variant is the control
  host.replaceChildren(
    el("div", { class: "card-head" }, [
      el("h3", { id: "experiment-title", tabindex: "-1" }, [
        `${experiment.key} `, el("span", { class: `pill ${experiment.status}` }, experiment.status),
      ]),
      el("span", { class: "links" }, [
        el("a", { href: links.json, "aria-label": `Experiment report ${experiment.key} as JSON` }, "JSON"),
        el("a", { href: links.csv, "aria-label": `Experiment report ${experiment.key} as CSV` }, "CSV"),
      ]),
    ]),
    el("p", { class: "note" }, `${experiment.description ? `${experiment.description}. ` : ""}` +
      `From ${dayLabel(report.start_date)} to ${dayLabel(report.end_date)} (the experiment's run), with the page's filters.`),
    el("dl", { class: "figures four" }, [
      figure("users", "Users exposed", compact(Number(s.users)), s.users),
      figure("decision", `Decision on ${nameOf(s.primary_metric || "")}`, s.decision || "–", s.decision, "words"),
      figure("srm", "Sample ratio", s.srm_mismatch ? "Mismatch: check assignment" : "As expected", s.srm_mismatch, "words"),
      figure("guardrails", "Guardrails", s.guardrails_violated || "None crossed", s.guardrails_violated, "words"),
    ]),
    grid("Variants", ["Variant", "Users", "Share", "Expected"], variants.rows.map((r) => [
      r.variant, compact(r.users), r.share === null ? "–" : percent(r.share), percent(r.expected_share),
    ]), "variants"),
    grid("Results", ["Metric", "Variant", "Users", "Value", "Lift (95% CI)", "Chance to win"], results.rows.map((r) => [
      `${nameOf(r.metric)}${r.role === "guardrail" ? " (guardrail)" : ""}`, r.variant, compact(r.users),
      number(r.value), r.variant === control ? "control" : lift(r),
      r.chance_to_win === null ? "–" : percent(r.chance_to_win),
    ]), "results"),
  );
}

export function renderExperimentPrompt(message = "Open an experiment above to see its variants and results here.") {
  const host = document.getElementById("experiment-detail");
  delete host.dataset.key;
  delete host.dataset.url;
  host.replaceChildren(el("p", { class: "empty", "data-empty": "experiment-detail" }, message));
}

// A report table as objects keyed by its columns.
function table(report, name) {
  const t = report.tables.find((x) => x.name === name) || { columns: [], rows: [] };
  return { rows: t.rows.map((row) => Object.fromEntries(t.columns.map((c, i) => [c, row[i]]))) };
}

function grid(title, heads, rows, name) {
  return el("div", { class: "scroll-x" }, el("table", { class: "matrix", "data-table": name }, [
    el("caption", {}, title),
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c, i) => el(i ? "td" : "th", i ? {} : { scope: "row" }, String(c)))))),
  ]));
}

function figure(key, term, shown, raw, kind = "") {
  return el("div", { "data-figure": `experiment_${key}`, "data-value": raw, class: kind || null }, [
    el("dt", {}, term), el("dd", {}, shown),
  ]);
}

function lift(row) {
  if (row.lift === null || row.lift === undefined) return "– (no data yet)";
  return `${signed(row.lift)} (${signed(row.lift_ci_low)} to ${signed(row.lift_ci_high)})`;
}

const day = (timestamp) => (timestamp ? dayLabel(timestamp.slice(0, 10)) : "–");
const number = (v) => (v === null || v === undefined ? "–" : compact(v));
const signed = (v) => (v === null || v === undefined ? "–" : `${v > 0 ? "+" : ""}${(100 * v).toFixed(1)}%`);
