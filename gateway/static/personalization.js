// Goals and sharing between families (GET /api/recommendations/overview/personalization):
// children with goals, children per goal, shared stories and those "families like yours" can show.
import { PALETTE, barList, compact } from "./charts.js";
import { draw, forget } from "./redraw.js";
import { el, renderList } from "./widgets.js";

export function renderPersonalization(overview, source) {
  document.getElementById("personal-source").setAttribute("href", source);
  const n = (value) => Number(value || 0);
  renderList(document.getElementById("personal-figures"), [
    ["children_with_goals", "Children with goals", compact(n(overview.children_with_goals)), n(overview.children_with_goals)],
    ["shared_stories", "Stories shared by their authors", compact(n(overview.shared_stories)), n(overview.shared_stories)],
    ["family_stories", "Shown between families (5+ families)", compact(n(overview.family_stories)), n(overview.family_stories)],
  ]);
  const host = document.getElementById("personal-goals");
  const goals = overview.goals || [];
  if (!goals.length) {
    host.replaceChildren(el("p", { class: "empty" }, "No goals set yet."));
    forget("personal-goals");
    return;
  }
  const items = goals.map((g) => ({ key: g.goal.id, value: n(g.children) }));
  const names = Object.fromEntries(goals.map((g) => [g.goal.id, g.goal.name]));
  draw("personal-goals", () => barList(host, {
    items, name: "personal-goals", color: PALETTE[2], labelOf: (id) => names[id] || id,
    label: `Children per goal: ${goals.map((g) => `${g.goal.name} ${n(g.children)}`).join(", ")}`,
  }));
}
