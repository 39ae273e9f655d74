// Small helpers: an element builder, number and UTC date formats, headline cards, figure lists.

export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  node.append(...(Array.isArray(children) ? children : [children]).filter((c) => c !== null && c !== undefined));
  return node;
}

// "ocean-kingdom" → "Ocean Kingdom", "a+b" → "A + B", "story_creation" → "Story creation".
export function nameOf(key) {
  if (!key) return "(none)";
  if (key.includes("+")) return key.split("+").map(nameOf).join(" + ");
  if (key.includes("_")) {
    const words = key.replaceAll("_", " ");
    return words[0].toUpperCase() + words.slice(1);
  }
  const special = { ios: "iOS", macos: "macOS", tv: "TV" };
  if (special[key]) return special[key];
  return key.split("-").map((w) => w[0].toUpperCase() + w.slice(1)).join(" ");
}

export function percent(value) {
  return `${(100 * (value || 0)).toFixed(value && value < 0.1 ? 1 : 0)}%`;
}

export function duration(seconds) {
  if (!seconds) return "–";
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return minutes ? `${minutes}m ${String(rest).padStart(2, "0")}s` : `${rest}s`;
}

export function renderKpis(host, cards) {
  host.replaceChildren(...cards.map((c) => el("div", { class: "kpi", "data-kpi": c.key, "data-value": c.raw }, [
    el("span", { class: "kpi-label" }, c.label),
    el("strong", { class: "kpi-value" }, c.value),
    el("span", { class: "kpi-note" }, c.note),
  ])));
}

// A <dl> of [key, term, shown value, raw value] items.
export function renderList(host, items) {
  host.replaceChildren(...items.map(([key, term, value, raw]) => el("div", { "data-figure": key, "data-value": raw }, [
    el("dt", {}, term), el("dd", {}, value),
  ])));
}

// Dates are the API's UTC calendar days, as YYYY-MM-DD.
export function today() {
  return new Date().toISOString().slice(0, 10);
}

export function addDays(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

export function daysBetween(start, end) {
  return Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86400000) + 1;
}
