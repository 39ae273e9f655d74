// What parents say: the feedback summary (GET /api/feedback/summary) and the moderation
// queue (GET /api/moderation/queue) as cards, charts and lists.
import { PALETTE, barList, compact, dayLabel, lineChart } from "./charts.js";
import { draw, forget } from "./redraw.js";
import { el, nameOf, renderList, today } from "./widgets.js";

const RATING_SCALE = { max: 5, step: 1 };
const SENTIMENT_SCALE = { max: 1, step: 0.25 };
const LABELS = ["negative", "neutral", "positive"]; // the order of sentiment_distribution
const SEVERITY_ORDER = { critical: 0, high: 1, medium: 2 };

// The trend comes per day × age group × platform: one point per day of the range, the
// averages weighted by each group's count (sentiment by its scored comments); null where
// a day had no feedback, so the line breaks instead of dropping to 0.
export function dailySatisfaction(trend, days) {
  const byDay = new Map(days.map((d) => [d, { n: 0, rating: 0, scored: 0, sentiment: 0 }]));
  for (const p of trend) {
    const day = byDay.get(p.date);
    if (!day) continue;
    const n = Number(p.count);
    const scored = Number(p.sentiment_count);
    day.n += n;
    day.rating += n * p.average_rating;
    day.scored += scored;
    day.sentiment += scored * p.average_sentiment;
  }
  return days.map((t) => {
    const d = byDay.get(t);
    return {
      t, count: d.n, scored: d.scored,
      rating: d.n ? d.rating / d.n : null,
      sentiment: d.scored ? d.sentiment / d.scored : null,
    };
  });
}

export function renderFeedback(summary, queue, board, source) {
  const days = board.active_users.daily.points.map((p) => p.t);
  const daily = dailySatisfaction(summary.satisfaction_trend, days);
  const partial = board.end_date === today() ? board.end_date : null;
  document.getElementById("feedback-source").setAttribute("href", source);
  const count = Number(summary.count);
  renderList(document.getElementById("feedback-figures"), [
    ["feedback_count", "Feedback in the range", compact(count), count],
    ["average_rating", "Average rating", count ? `${summary.average_rating.toFixed(2)} / 5` : "–", summary.average_rating],
    ["average_sentiment", "Average sentiment", count ? summary.average_sentiment.toFixed(2) : "–", summary.average_sentiment],
  ]);
  const rated = daily.filter((d) => d.rating !== null);
  const host = document.getElementById("chart-satisfaction");
  if (!rated.length) {
    empty(host, "satisfaction", "No feedback in this range.");
  } else {
    draw("satisfaction", () => lineChart(host, {
      series: [{ name: "average_rating", label: "Average rating", color: PALETTE[3],
        points: daily.map((d) => ({ t: d.t, value: d.rating })) }],
      partial, scale: RATING_SCALE, format: (v) => v.toFixed(v % 1 ? 2 : 0),
      label: `Average rating per day, ${rated.length} days with feedback: ` +
        `${Math.min(...rated.map((d) => d.rating)).toFixed(2)} to ${Math.max(...rated.map((d) => d.rating)).toFixed(2)}`,
    }));
  }
  renderRatings(summary, count);
  renderSentiment(summary, daily, partial);
  renderProblems(summary);
  renderAlerts(summary.open_alerts);
  renderQueue(queue.items);
}

function renderRatings(summary, count) {
  const host = document.getElementById("bars-ratings");
  if (!count) return empty(host, "ratings", "No ratings in this range.");
  const items = [5, 4, 3, 2, 1].map((stars) => {
    const value = Number(summary.rating_distribution[stars - 1]);
    return { key: String(stars), value, share: value / count };
  });
  const labelOf = (k) => `${"★".repeat(+k)}${"☆".repeat(5 - k)} ${k} star${k === "1" ? "" : "s"}`;
  draw("ratings", () => barList(host, {
    items, name: "ratings", color: PALETTE[3], labelOf,
    label: `Ratings: ${items.map((i) => `${i.key} stars ${i.value}`).join(", ")}`,
  }));
}

function renderSentiment(summary, daily, partial) {
  const host = document.getElementById("bars-sentiment");
  const counts = LABELS.map((_, i) => Number(summary.sentiment_distribution[i]));
  const total = counts.reduce((a, b) => a + b, 0);
  const lineHost = document.getElementById("chart-sentiment");
  if (!total) {
    empty(host, "sentiment", "No analysed comments in this range.");
    lineHost.replaceChildren();
    forget("sentiment-line");
    return;
  }
  const colors = { positive: PALETTE[6], neutral: PALETTE[11], negative: PALETTE[2] };
  const items = LABELS.map((key, i) => ({ key, value: counts[i], share: counts[i] / total })).reverse();
  draw("sentiment", () => {
    const node = barList(host, {
      items, name: "sentiment", color: PALETTE[6], labelOf: nameOf,
      label: `Comments by sentiment: ${items.map((i) => `${i.key} ${i.value}`).join(", ")}`,
    });
    for (const bar of node.querySelectorAll("rect.bar")) bar.setAttribute("fill", colors[bar.dataset.key]);
  });
  draw("sentiment-line", () => lineChart(lineHost, {
    series: [{ name: "average_sentiment", label: "Average sentiment", color: PALETTE[6],
      points: daily.map((d) => ({ t: d.t, value: d.sentiment })) }],
    partial, scale: SENTIMENT_SCALE, height: 150, format: (v) => v.toFixed(2),
    label: "Average comment sentiment per day, 0 negative to 1 positive",
  }));
}

function renderProblems(summary) {
  const host = document.getElementById("bars-problems");
  const items = summary.top_problems
    .map((p) => ({ key: p.aspect, value: Number(p.negative), praised: Number(p.positive) }))
    .filter((p) => p.value > 0)
    .map((p) => ({ ...p, note: `${compact(p.praised)} praised` }));
  if (!items.length) {
    empty(host, "problems", "No problems named in this range.");
  } else {
    draw("problems", () => barList(host, {
      items, name: "problems", color: PALETTE[2], labelOf: nameOf,
      label: `Problems parents name (complaints): ${items.map((i) => `${nameOf(i.key)} ${i.value}`).join(", ")}`,
    }));
  }
  const list = document.getElementById("suggestions");
  list.replaceChildren(...(summary.suggestions.length
    ? summary.suggestions.map((s) => el("li", {}, s))
    : [el("li", { class: "empty" }, "Nothing stands out yet.")]));
}

function renderAlerts(alerts) {
  const host = document.getElementById("alerts");
  document.getElementById("alerts-count").textContent = alerts.length ? String(alerts.length) : "";
  if (!alerts.length) {
    host.replaceChildren(el("p", { class: "empty", "data-empty": "alerts" }, "No open alerts."));
    return;
  }
  const sorted = [...alerts].sort((a, b) =>
    (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9) || b.created_at.localeCompare(a.created_at));
  host.replaceChildren(el("ul", { class: "items" }, sorted.map((a) => el("li", { "data-alert": a.alert_id }, [
    el("span", { class: "item-head" }, [
      el("span", { class: `pill ${a.severity}` }, a.severity),
      el("strong", {}, nameOf(a.kind)),
      el("span", { class: "note" }, `${a.scope === "combination" ? "stories combining " + nameOf(a.subject) : a.subject} · ${when(a.created_at)}`),
    ]),
    el("span", {}, a.message),
  ]))));
}

function renderQueue(items) {
  const host = document.getElementById("moderation");
  document.getElementById("moderation-count").textContent = items.length ? String(items.length) : "";
  if (!items.length) {
    host.replaceChildren(el("p", { class: "empty", "data-empty": "moderation" }, "No story is waiting for a moderator."));
    return;
  }
  host.replaceChildren(el("ul", { class: "items" }, items.map((item) => el("li", { "data-story": item.story_id }, [
    el("span", { class: "item-head" }, [
      el("strong", {}, item.story_id),
      el("span", { class: "note" }, `waiting since ${when(item.created_at)} · ${item.alert_ids.length} alert${item.alert_ids.length === 1 ? "" : "s"}`),
    ]),
    el("span", {}, item.reason),
    el("a", { href: `/api/feedback/${encodeURIComponent(item.story_id)}`, "aria-label": `Feedback on ${item.story_id} as JSON` }, "Its feedback (JSON)"),
  ]))));
}

function when(timestamp) {
  return `${dayLabel(timestamp.slice(0, 10))} ${timestamp.slice(11, 16)} UTC`;
}

function empty(host, id, message) {
  host.replaceChildren(el("p", { class: "empty" }, message));
  forget(id);
}
