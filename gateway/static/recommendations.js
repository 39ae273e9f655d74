// Recommendations: shown → clicked per kind and per model version
// (GET /api/analytics/recommendations) as figures, bars and a version × kind table.
import { PALETTE, barList, compact } from "./charts.js";
import { draw, forget } from "./redraw.js";
import { el, nameOf, renderList } from "./widgets.js";

const KIND_ORDER = ["universe", "character", "theme", "moral_lesson", "story"];
const kindName = (kind) => (kind ? nameOf(kind) : "(no kind)");
const versionName = (version) => version || "(not given)";
// Rates with one decimal: 12.5 % and 13.4 % are different results for a model.
const rate = (value) => `${(100 * (value || 0)).toFixed(1)}%`;
const clicks = (row) => `${compact(Number(row.clicked))} of ${compact(Number(row.shown))}`;

export function renderRecommendations(report, source) {
  document.getElementById("reco-source").setAttribute("href", source);
  const total = report.total;
  renderList(document.getElementById("reco-figures"), [
    ["reco_shown", "Recommendations shown", compact(Number(total.shown)), total.shown],
    ["reco_clicked", "Clicked", compact(Number(total.clicked)), total.clicked],
    ["reco_rate", "Click-through", rate(total.click_through_rate), total.click_through_rate],
  ]);
  rateBars("reco-types", report.by_type, (r) => r.recommendation_type, kindName, PALETTE[0], "Click-through by kind");
  rateBars("reco-versions", report.by_model_version, (r) => r.model_version, versionName, PALETTE[4],
    "Click-through by model version");
  renderMatrix(report);
}

function rateBars(id, rows, keyOf, labelOf, color, title) {
  const host = document.getElementById(id);
  if (!rows.length) {
    host.replaceChildren(el("p", { class: "empty" }, "No recommendations shown in this range."));
    forget(id);
    return;
  }
  const items = rows.map((r) => ({ key: keyOf(r), value: r.click_through_rate, note: clicks(r) }));
  const max = Math.max(...items.map((i) => i.value)) || 1;
  draw(id, () => barList(host, {
    items, name: id, color, labelOf, format: rate, max,
    label: `${title}: ${rows.map((r) => `${labelOf(keyOf(r))} ${rate(r.click_through_rate)} (${clicks(r)})`).join(", ")}`,
  }));
}

// Versions as rows, kinds as columns: a new version's rate next to the old one's, kind by kind.
function renderMatrix(report) {
  const host = document.getElementById("reco-matrix");
  const cells = report.by_model_version_and_type;
  if (!cells.length) {
    host.replaceChildren(el("p", { class: "empty" }, "No recommendations shown in this range."));
    return;
  }
  const kinds = [...new Set(cells.map((c) => c.recommendation_type))]
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const versions = report.by_model_version.map((r) => r.model_version);
  const find = (version, kind) => cells.find((c) => c.model_version === version && c.recommendation_type === kind);
  const cell = (row) => row
    ? el("td", { "data-version": row.model_version, "data-kind": row.recommendation_type,
      "data-shown": row.shown, "data-clicked": row.clicked, "data-rate": row.click_through_rate }, [
      el("strong", {}, rate(row.click_through_rate)), el("span", { class: "note" }, ` ${clicks(row)}`),
    ])
    : el("td", { class: "note" }, "–");
  host.replaceChildren(el("table", { class: "matrix" }, [
    el("caption", { class: "visually-hidden" }, "Click-through by model version and kind: clicked of shown"),
    el("thead", {}, el("tr", {}, [
      el("th", { scope: "col" }, "Model version"),
      ...kinds.map((k) => el("th", { scope: "col" }, kindName(k))),
      el("th", { scope: "col" }, "All kinds"),
    ])),
    el("tbody", {}, versions.map((version) => el("tr", {}, [
      el("th", { scope: "row" }, versionName(version)),
      ...kinds.map((kind) => cell(find(version, kind))),
      cell({ ...report.by_model_version.find((r) => r.model_version === version), recommendation_type: "*" }),
    ]))),
  ]));
}

function rank(kind) {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}
