// Small dependency-free SVG charts. Each function draws into `host` (an element whose
// width sets the chart's width, so text stays crisp) and replaces what was there.
// Every chart and every mark carries data-* attributes with the figures it shows:
// the page tests read them to check that what is drawn is what the API returned.

const NS = "http://www.w3.org/2000/svg";

export const PALETTE = ["#6c5ce7", "#00a8a8", "#ff7a59", "#f2b705", "#3b82f6", "#e84393", "#2bb673",
  "#8d6e63", "#9b59b6", "#16a085", "#d35400", "#607d8b", "#c0392b"];

export function svg(name, attrs = {}, children = []) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function text(x, y, content, attrs = {}) {
  const node = svg("text", { x, y, ...attrs });
  node.textContent = content;
  return node;
}

function tooltip(content) {
  const node = svg("title");
  node.textContent = content;
  return node;
}

// The root <svg>: an image with a name for assistive technology and data for tests.
function root(host, kind, width, height, label, data = {}) {
  const node = svg("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label,
    class: `chart chart-${kind}`, "data-chart": kind,
  });
  for (const [key, value] of Object.entries(data)) node.dataset[key] = value;
  node.append(tooltip(label));
  host.replaceChildren(node);
  return node;
}

function widthOf(host, fallback = 560, least = 220) {
  return Math.max(least, Math.floor(host.clientWidth || fallback));
}

// 1, 2 or 5 × a power of ten, so gridlines land on round numbers.
export function niceStep(max, count) {
  const raw = Math.max(max, 1) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 5, 10].find((m) => m * power >= raw) * power;
  return Math.max(unit, Number.EPSILON);
}

export function compact(value) {
  if (Math.abs(value) >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (Math.abs(value) >= 1e4) return `${+(value / 1e3).toFixed(1)}k`;
  return Number.isInteger(value) ? value.toLocaleString("en") : (+value.toFixed(2)).toLocaleString("en");
}

export function dayLabel(t) {
  const date = new Date(t.length === 10 ? `${t}T00:00:00Z` : t);
  const options = t.length === 10 ? { month: "short", day: "numeric" } : { hour: "2-digit", minute: "2-digit" };
  return date.toLocaleString("en-GB", { ...options, timeZone: "UTC" });
}

// Y axis with gridlines; returns the scale. `scale` ({max, step}) fixes it, e.g. ratings 0–5.
function yAxis(node, box, max, format, scale = null) {
  const step = scale ? scale.step : Math.max(1, niceStep(max, 4)); // counts: no gridline at 0.5
  const top = scale ? scale.max : Math.max(step, Math.ceil(max / step) * step);
  const y = (v) => box.bottom - (v / top) * (box.bottom - box.top);
  for (let v = 0; v <= top + step / 2; v += step) {
    node.append(svg("line", { x1: box.left, x2: box.right, y1: y(v), y2: y(v), class: "gridline" }));
    node.append(text(box.left - 6, y(v) + 4, format(v), { class: "tick", "text-anchor": "end" }));
  }
  return y;
}

function xTicks(node, box, points, x) {
  const every = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor((box.right - box.left) / 70))));
  points.forEach((p, i) => {
    if (i % every === 0 || (i === points.length - 1 && points.length <= 8)) {
      node.append(text(x(i), box.bottom + 16, dayLabel(p.t), { class: "tick", "text-anchor": "middle" }));
    }
  });
}

// Time series as lines (one or more series over the same buckets).
// `partial`: the key of a bucket still filling up (today): drawn dashed/hollow, not as a drop.
// A point whose value is null has no figure (no feedback that day): the line breaks there.
// `scale` ({max, step}) fixes the y axis.
export function lineChart(host, { series, label, height = 220, format = compact, partial = null, scale = null }) {
  const width = widthOf(host);
  const node = root(host, "line", width, height, label, {
    series: series.map((s) => s.name).join(","),
    points: series[0]?.points.length ?? 0,
  });
  const box = { left: 44, right: width - 12, top: 12, bottom: height - 26 };
  const known = (p) => p.value !== null && p.value !== undefined;
  const max = Math.max(0, ...series.flatMap((s) => s.points.filter(known).map((p) => p.value)));
  const y = yAxis(node, box, max, format, scale);
  const count = series[0]?.points.length ?? 0;
  const x = (i) => box.left + (count <= 1 ? 0 : (i / (count - 1)) * (box.right - box.left));
  if (count) xTicks(node, box, series[0].points, x);
  series.forEach((s, index) => {
    const color = s.color || PALETTE[index % PALETTE.length];
    const values = s.points.map((p) => (known(p) ? p.value : "")).join(",");
    const group = svg("g", { class: "series", "data-series": s.name, "data-values": values });
    for (const run of runs(s.points, known)) {
      const coords = run.map((i) => `${x(i).toFixed(1)},${y(s.points[i].value).toFixed(1)}`);
      if (series.length === 1 && coords.length > 1) {
        group.append(svg("path", {
          d: `M${x(run[0])},${box.bottom} L${coords.join(" L")} L${x(run.at(-1))},${box.bottom} Z`,
          class: "area", fill: color,
        }));
      }
      const split = s.points[run.at(-1)].t === partial && coords.length > 1 ? coords.length - 1 : coords.length;
      group.append(svg("polyline", { points: coords.slice(0, split).join(" "), class: "line", stroke: color }));
      if (split < coords.length) {
        group.append(svg("polyline", { points: coords.slice(split - 1).join(" "), class: "line partial", stroke: color }));
      }
    }
    if (count <= 62) {
      s.points.forEach((p, i) => known(p) && group.append(svg("circle", {
        cx: x(i), cy: y(p.value), r: 3, class: p.t === partial ? "point partial" : "point", fill: color,
        "data-key": p.t, "data-value": p.value,
      }, [tooltip(`${s.label || s.name}, ${dayLabel(p.t)}: ${format(p.value)}${p.t === partial ? " so far" : ""}`)])));
    }
    node.append(group);
  });
  return node;
}

// Indexes of the points, in runs of consecutive known values.
function runs(points, known) {
  const out = [];
  points.forEach((p, i) => {
    if (!known(p)) return;
    if (out.length && out.at(-1).at(-1) === i - 1) out.at(-1).push(i);
    else out.push([i]);
  });
  return out;
}

// Time series as columns (counts per bucket).
export function columnChart(host, { points, label, name, height = 200, color = PALETTE[0], format = compact, partial = null }) {
  const width = widthOf(host);
  const node = root(host, "columns", width, height, label, { series: name, points: points.length });
  const box = { left: 44, right: width - 12, top: 12, bottom: height - 26 };
  const y = yAxis(node, box, Math.max(0, ...points.map((p) => p.value)), format);
  const slot = (box.right - box.left) / Math.max(points.length, 1);
  const x = (i) => box.left + slot * (i + 0.5);
  xTicks(node, box, points, x);
  points.forEach((p, i) => {
    const top = y(p.value);
    node.append(svg("rect", {
      x: box.left + slot * i + slot * 0.15, y: top, width: Math.max(1, slot * 0.7), height: box.bottom - top,
      rx: Math.min(4, slot * 0.2), class: p.t === partial ? "bar partial" : "bar", fill: color,
      "data-key": p.t, "data-value": p.value,
    }, [tooltip(`${dayLabel(p.t)}: ${format(p.value)}${p.t === partial ? " so far" : ""}`)]));
  });
  return node;
}

// A tiny line without axes, for small multiples.
export function sparkline(host, { points, name, label, color = PALETTE[0], height = 44 }) {
  const width = widthOf(host, 160, 60);
  const node = root(host, "sparkline", width, height, label, {
    series: name, points: points.length, values: points.map((p) => p.value).join(","),
  });
  const max = Math.max(1, ...points.map((p) => p.value));
  const x = (i) => 2 + (points.length <= 1 ? 0 : (i / (points.length - 1)) * (width - 4));
  const y = (v) => height - 3 - (v / max) * (height - 6);
  const coords = points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
  if (coords.length > 1) {
    node.append(svg("path", { d: `M2,${height} L${coords.join(" L")} L${width - 2},${height} Z`, class: "area", fill: color }));
  }
  node.append(svg("polyline", { points: coords.join(" "), class: "line", stroke: color }));
  return node;
}

// Ranked items as labelled horizontal bars: the label and value above each bar, so long
// names (universe pairs) never collide with the bar. An item's `note` follows its value.
// `max`: the value of a full bar (default: the largest value, at least 1).
export function barList(host, { items, label, name, color = PALETTE[0], format = compact, labelOf = (k) => k, max = null }) {
  const width = widthOf(host, 320);
  const row = 34;
  const height = Math.max(row, items.length * row) + 4;
  const node = root(host, "bars", width, height, label, { series: name, points: items.length });
  const full = max || Math.max(1, ...items.map((item) => item.value));
  items.forEach((item, i) => {
    const top = i * row + 2;
    const share = (item.share !== undefined ? ` · ${(item.share * 100).toFixed(1)}%` : "") +
      (item.note ? ` · ${item.note}` : "");
    const barWidth = Math.max(2, (item.value / full) * (width - 2));
    node.append(svg("g", { class: "bar-row" }, [
      text(0, top + 12, labelOf(item.key), { class: "bar-label" }),
      text(width, top + 12, `${format(item.value)}${share}`, { class: "bar-value", "text-anchor": "end" }),
      svg("rect", { x: 0, y: top + 18, width: width, height: 10, rx: 5, class: "track" }),
      svg("rect", {
        x: 0, y: top + 18, width: barWidth, height: 10, rx: 5, class: "bar", fill: color,
        "data-key": item.key, "data-value": item.value,
      }, [tooltip(`${labelOf(item.key)}: ${format(item.value)}${share}`)]),
    ]));
  });
  return node;
}

const pct = (rate) => `${Math.round(rate * 100)}%`;

// Funnel steps as centred bars narrowing with the users left, conversions between them.
export function funnelChart(host, { steps, label, labelOf = (k) => k }) {
  const width = widthOf(host);
  const row = 58;
  const height = steps.length * row;
  const labels = Math.min(240, Math.max(170, width * 0.36));
  const node = root(host, "funnel", width, height, label, { series: "funnel", points: steps.length });
  const first = Math.max(1, steps[0]?.users ?? 1);
  const span = width - labels;
  steps.forEach((step, i) => {
    const top = i * row;
    const barWidth = Math.max(6, (step.users / first) * span);
    const left = labels + (span - barWidth) / 2;
    const color = PALETTE[i % PALETTE.length];
    const rates = i === 0 ? "everyone who entered"
      : `${pct(step.fromPrevious)} of previous · ${pct(step.fromFirst)} of all`;
    node.append(svg("g", { class: "funnel-step" }, [
      text(0, top + 22, `${i + 1}. ${labelOf(step.name)}`, { class: "bar-label" }),
      text(0, top + 40, rates, { class: "tick" }),
      svg("rect", {
        x: left, y: top + 6, width: barWidth, height: 38, rx: 8, class: "bar", fill: color,
        "data-key": step.name, "data-value": step.users,
      }, [tooltip(`${labelOf(step.name)}: ${step.users} users (${rates})`)]),
      text(labels + span / 2, top + 30, `${compact(step.users)} users`, {
        class: barWidth > 70 ? "funnel-rate" : "funnel-rate outside", "text-anchor": "middle",
      }),
    ]));
  });
  return node;
}

// Cohorts × periods; colour by the share of the cohort that returned. Periods that have
// not happened yet are drawn hollow, not as 0 %.
export function heatmap(host, { rows, periods, label, rowLabel, unit }) {
  const width = widthOf(host);
  const left = 150;
  const cell = Math.max(24, Math.min(96, (width - left) / Math.max(periods, 1)));
  const rowHeight = 28;
  const height = 24 + rows.length * rowHeight;
  const node = root(host, "heatmap", Math.max(width, left + cell * periods), height, label, {
    series: "retention", points: rows.length, periods,
  });
  node.append(text(0, 14, "Cohort · users", { class: "tick" }));
  for (let p = 0; p < periods; p++) {
    const head = p === 0 ? `${unit} 0` : String(p);
    node.append(text(left + cell * (p + 0.5), 14, head, { class: "tick", "text-anchor": "middle" }));
  }
  rows.forEach((row, r) => {
    const top = 22 + r * rowHeight;
    node.append(text(0, top + 17, rowLabel(row), { class: "bar-label" }));
    row.cells.forEach((value, p) => {
      const future = row.future[p];
      const rate = row.size ? value / row.size : 0;
      const attrs = {
        x: left + cell * p + 1, y: top, width: cell - 2, height: rowHeight - 3, rx: 4,
        class: future ? "cell future" : "cell", "data-cohort": row.cohort, "data-period": p,
        "data-value": value, "data-rate": rate.toFixed(4),
      };
      if (!future) attrs.fill = `rgba(0, 150, 150, ${0.08 + 0.92 * rate})`;
      const summary = future ? "not yet" : `${value} of ${row.size} (${(rate * 100).toFixed(0)}%)`;
      node.append(svg("rect", attrs, [tooltip(`${rowLabel(row)}, period ${p}: ${summary}`)]));
      if (!future && cell >= 30) {
        node.append(text(left + cell * (p + 0.5), top + 17, `${Math.round(rate * 100)}%`, {
          class: rate > 0.55 ? "cell-text light" : "cell-text", "text-anchor": "middle",
        }));
      }
    });
  });
  return node;
}
