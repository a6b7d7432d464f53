// A small SVG line chart: one line per series over time. No library: a few dozen points
// per vendor need nothing more than polylines and three tick labels.

import { fmtTime, h, replace, svg } from "./dom.js";

const H = 180;
const PAD = { left: 44, right: 8, top: 8, bottom: 20 };

/** Distinct colours, handed out to series names in order of first appearance. */
const PALETTE = ["#2455c3", "#d1495b", "#2a9d3f", "#f08c00", "#8e5ccf", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const assigned = new Map();
export function colour(name) {
  if (!assigned.has(name)) assigned.set(name, PALETTE[assigned.size % PALETTE.length]);
  return assigned.get(name);
}

/**
 * Draw into container. series: [{name, label, points: [{t (epoch s), v}]}]; format(v) for
 * the y labels.
 */
export function lineChart(container, series, { format = (v) => String(Math.round(v)), title = "" } = {}) {
  const all = series.flatMap((s) => s.points);
  if (!all.length) {
    replace(container, h("p", { class: "muted small", text: "No data yet." }));
    return;
  }
  const W = Math.max(260, Math.round(container.clientWidth || 600)); // drawn at its real size: text stays crisp
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const vmax = Math.max(1, ...all.map((p) => p.v)) * 1.1;
  const x = (t) => PAD.left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / vmax) * (H - PAD.top - PAD.bottom);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, width: W, height: H });
  for (const frac of [0, 0.5, 1]) {
    const v = vmax * frac;
    chart.append(
      svg("line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }),
      svg("text", { x: PAD.left - 4, y: y(v) + 4, "text-anchor": "end", text: format(v) }),
    );
  }
  chart.append(
    svg("text", { x: PAD.left, y: H - 4, text: fmtTime(t0).slice(0, 8) }),
    svg("text", { x: W - PAD.right, y: H - 4, "text-anchor": "end", text: fmtTime(t1).slice(0, 8) }),
  );
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a.t - b.t);
    const c = colour(s.name);
    if (pts.length > 1) {
      chart.append(svg("polyline", { points: pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" "), fill: "none", stroke: c, "stroke-width": 1.5 }));
    }
    for (const p of pts.slice(-60)) {
      chart.append(svg("circle", { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5, fill: c }));
    }
  }
  const legend = h("div", { class: "legend" }, series.map((s) => h("span", { style: { "--c": colour(s.name) }, text: s.label || s.name })));
  replace(container, chart, legend);
}
