// Predicted retention (GetDashboard's churn_risk): children scored by the latest model, those at
// risk (P(return within 7 days) below at_risk_below), and at risk per age group.
import { PALETTE, barList, compact } from "./charts.js";
import { draw, forget } from "./redraw.js";
import { el, percent, renderList } from "./widgets.js";

export function renderChurn(board, source) {
  const risk = board.churn_risk || {};
  const n = (value) => Number(value || 0);
  document.getElementById("churn-source").setAttribute("href", source);
  document.getElementById("churn-when").textContent = risk.trained_at
    ? `model of ${risk.trained_at.slice(0, 10)}` : "no model trained yet";
  renderList(document.getElementById("churn-figures"), [
    ["churn_active_children", "Active children scored", compact(n(risk.active_children)), n(risk.active_children)],
    ["churn_at_risk", "At risk", `${compact(n(risk.at_risk))} (${percent(n(risk.at_risk_share))})`, n(risk.at_risk)],
    ["churn_return_7d", "Mean chance of returning, 7 days", percent(n(risk.mean_p_return_7d)), n(risk.mean_p_return_7d)],
    ["churn_return_28d", "Mean chance of returning, 28 days", percent(n(risk.mean_p_return_28d)), n(risk.mean_p_return_28d)],
  ]);
  const host = document.getElementById("churn-ages");
  const items = (risk.at_risk_by_age_group || []).map((i) => ({ key: i.key, value: n(i.value), share: n(i.share) }));
  if (!items.length) {
    host.replaceChildren(el("p", { class: "empty" }, "No predictions for these filters yet."));
    forget("churn-ages");
    return;
  }
  draw("churn-ages", () => barList(host, {
    items, name: "churn-ages", color: PALETTE[3], labelOf: (key) => `${key} years`,
    label: `Children at risk by age group: ${items.map((i) => `${i.key} ${i.value}`).join(", ")}`,
  }));
}
