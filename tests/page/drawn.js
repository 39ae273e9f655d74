// Everything the dashboard drew, read back from the marks' data attributes (evaluated by the page tests).
(() => {
  const marks = (selector) => [...document.querySelectorAll(selector)].map((n) => [n.dataset.key, +n.dataset.value]);
  const values = (selector) => (document.querySelector(selector)?.dataset.values || "").split(",").filter(Boolean).map(Number);
  const form = document.getElementById("filters").elements;
  return {
    filters: Object.fromEntries(["start_date", "end_date", "age_group", "platform", "device_type"].map((n) => [n, form[n].value])),
    dau: values("#chart-dau g.series"),
    dauPoints: +document.querySelector("#chart-dau svg").dataset.points,
    creations: marks("#chart-creations rect.bar"),
    eventsByType: [...document.querySelectorAll("#events-by-type figure")].map((f) => [f.dataset.series, +f.dataset.total,
      f.querySelector("svg").dataset.values.split(",").map(Number)]),
    bars: Object.fromEntries([...document.querySelectorAll("[id^=bars-]")].map((h) => [h.id.slice(5), marks(`#${h.id} rect.bar`)])),
    funnel: marks("#chart-funnel rect.bar"),
    funnelUrl: document.getElementById("chart-funnel").dataset.url,
    retention: [...document.querySelectorAll("#chart-retention rect.cell")].map((c) => [c.dataset.cohort, +c.dataset.period, +c.dataset.value]),
    retentionUrl: document.getElementById("chart-retention").dataset.url,
    kpis: Object.fromEntries([...document.querySelectorAll("[data-kpi]")].map((k) => [k.dataset.kpi, k.dataset.value])),
    figures: Object.fromEntries([...document.querySelectorAll("[data-figure]")].map((f) => [f.dataset.figure, f.dataset.value])),
    experiments: [...document.querySelectorAll("#experiments li")].map((li) => [li.dataset.key, li.dataset.status]),
    experimentsEmpty: !!document.querySelector("#experiments [data-empty]"),
    experimentOpen: document.getElementById("experiment-detail").dataset.key || null,
    satisfaction: (document.querySelector("#chart-satisfaction g.series")?.dataset.values ?? "").split(",")
      .filter((_, i, all) => all.length > 1 || all[0] !== "").map((v) => (v === "" ? null : +v)),
    sentimentLine: (document.querySelector("#chart-sentiment g.series")?.dataset.values ?? "").split(",")
      .filter((_, i, all) => all.length > 1 || all[0] !== "").map((v) => (v === "" ? null : +v)),
    suggestions: [...document.querySelectorAll("#suggestions li:not(.empty)")].map((li) => li.textContent),
    alerts: [...document.querySelectorAll("#alerts li")].map((li) => li.dataset.alert),
    moderation: [...document.querySelectorAll("#moderation li")].map((li) => li.dataset.story),
    recoTypes: marks("#reco-types rect.bar"),
    recoVersions: marks("#reco-versions rect.bar"),
    recoCells: [...document.querySelectorAll("#reco-matrix td[data-kind]")].map((td) =>
      [td.dataset.version, td.dataset.kind, +td.dataset.shown, +td.dataset.clicked]),
    sources: [...document.querySelectorAll("a.source")].map((a) => a.getAttribute("href")),
    links: [...document.querySelectorAll("#reports a")].map((a) => a.getAttribute("href")),
    generation: +document.body.dataset.generation,
  };
})()
