/**
 * The scaler's status page (`GET /status/page` of its HTTP port): one self-contained HTML file, no build step or CDN,
 * that polls `GET /status` and draws, per ScaledObject, what the scaler decided over time as three stacked charts
 * sharing the time axis (lag; arrival and commit rates; replicas asked for and members running), like the simulator's
 * charts, and the decisions that changed the replica count with their reasons. As the app's page, it holds no data
 * itself, and polls `/status` with the app page's script (observe's status-page-polling.ts).
 */
import { STATUS_POLLING_HTML, statusPollingScript } from '../../observe/index.ts'
export const SCALER_STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Streamlane scaler</title>
<link rel="icon" href="data:,">
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
  body { margin: 0 auto; max-width: 1100px; padding: 1rem 1.5rem 3rem; }
  h1 { font-size: 1.3rem; margin: 0.3rem 0; } h2 { font-size: 1.05rem; margin: 1.8rem 0 0.4rem; }
  .meta { color: #5b6475; font-size: 0.85rem; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 0.6rem; margin: 0.6rem 0; }
  .card { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 0.5rem 0.8rem; }
  .card .label { color: #5b6475; font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.03em; }
  .card .value { font-size: 1.3rem; font-variant-numeric: tabular-nums; margin-top: 0.2rem; }
  svg.chart { background: #fff; border: 1px solid #dde1e8; width: 100%; height: auto; }
  svg.chart text { font-size: 11px; fill: #5b6475; } svg.chart polyline { fill: none; stroke-width: 1.6; }
  svg.chart line.grid { stroke: #eef0f4; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde1e8; font-size: 0.85rem; margin-top: 0.6rem; }
  th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #eef0f4; vertical-align: top; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .legend span { display: inline-block; margin-right: 1rem; font-size: 0.8rem; } .legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
  #error { color: #8a1c1c; margin-top: 0.6rem; } form { margin-top: 0.6rem; } input { font: inherit; width: 22rem; }
  .empty { color: #5b6475; font-style: italic; }
</style>
</head>
<body>
<h1>Streamlane scaler</h1>
<div class="meta" id="meta">loading /status…</div>
${STATUS_POLLING_HTML}
<div class="legend"><span><i style="background:#c0392b"></i>lag</span><span><i style="background:#2f6fd6"></i>arrivals / s</span><span><i style="background:#27a35a"></i>commits / s</span><span><i style="background:#7d3cb5"></i>replicas decided</span><span><i style="background:#9aa3b5"></i>members running</span></div>
<div id="objects"><p class="empty">no decisions yet: KEDA (or a GET /metrics/:group) has not asked</p></div>
<script>
${statusPollingScript(2_000)}
const NS = "http://www.w3.org/2000/svg";
function el(tag, attributes, text, ns) {
  const element = ns ? document.createElementNS(NS, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}
const svg = (tag, attributes, text) => el(tag, attributes, text, true);
const COLORS = { lag: "#c0392b", arrivalRate: "#2f6fd6", commitRate: "#27a35a", replicas: "#7d3cb5", members: "#9aa3b5" };
// Three panels sharing the time axis: lag; arrival and commit rates; replicas (steps) and members.
function chart(points) {
  const W = 1000, L = 64, R = 16, PH = 110, GAP = 26, TOP = 10;
  const panels = [{ title: "lag", series: ["lag"] }, { title: "records / s", series: ["arrivalRate", "commitRate"] }, { title: "replicas", series: ["replicas", "members"], step: true }];
  const H = TOP + panels.length * (PH + GAP) + 14;
  const root = svg("svg", { class: "chart", viewBox: "0 0 " + W + " " + H, width: W, height: H });
  const t0 = points[0].at, t1 = Math.max(points[points.length - 1].at, t0 + 1);
  const x = (t) => L + (t - t0) / (t1 - t0) * (W - L - R);
  panels.forEach((panel, i) => {
    const top = TOP + i * (PH + GAP);
    const max = Math.max(1, ...points.flatMap((p) => panel.series.map((s) => p[s] ?? 0)));
    const y = (v) => top + PH - v / max * PH;
    root.append(svg("line", { class: "grid", x1: L, x2: W - R, y1: top, y2: top }), svg("line", { class: "grid", x1: L, x2: W - R, y1: top + PH, y2: top + PH }),
      svg("text", { x: L - 6, y: top + 4, "text-anchor": "end" }, fmt(max)), svg("text", { x: L - 6, y: top + PH + 4, "text-anchor": "end" }, "0"),
      svg("text", { x: L + 4, y: top + 12 }, panel.title));
    for (const series of panel.series) {
      const coords = [];
      points.forEach((p, j) => {
        if (p[series] === null || p[series] === undefined) return;
        if (panel.step && j > 0) coords.push(x(p.at).toFixed(1) + "," + y(points[j - 1][series] ?? 0).toFixed(1));
        coords.push(x(p.at).toFixed(1) + "," + y(p[series]).toFixed(1));
      });
      root.append(svg("polyline", { points: coords.join(" "), stroke: COLORS[series], "data-series": series, "data-values": points.filter((p) => p[series] !== null).length }));
    }
  });
  const bottom = TOP + panels.length * (PH + GAP) - GAP + 14;
  root.append(svg("text", { x: L, y: bottom }, new Date(t0).toLocaleTimeString()), svg("text", { x: W - R, y: bottom, "text-anchor": "end" }, new Date(t1).toLocaleTimeString()));
  return root;
}
function card(label, value, cls) { const c = el("div", { class: "card" }); c.append(el("div", { class: "label" }, label), el("div", { class: "value " + cls }, value)); return c; }
function render(s) {
  $("meta").textContent = s.objects.length + " scaled object(s) · updated " + new Date(s.time).toLocaleTimeString();
  if (s.objects.length === 0) return;
  $("objects").replaceChildren(...s.objects.map((o) => {
    const section = el("section", { "data-object": o.key });
    const last = o.points[o.points.length - 1];
    section.append(el("h2", {}, o.key + " · group " + o.group));
    const cards = el("div", { class: "cards" });
    cards.append(card("replicas decided", fmt(last.replicas), "replicas"), card("members running", fmt(last.members), "members"), card("lag", fmt(last.lag), "lag"),
      card("arrivals / s", fmt(last.arrivalRate), "arrivals"), card("commits / s", fmt(last.commitRate), "commits"));
    section.append(cards, el("div", { class: "reason" }, "now: " + last.reason), chart(o.points));
    // The decisions that changed the replica count (the first one included), newest first.
    const changes = o.points.filter((p, i) => i === 0 || p.replicas !== o.points[i - 1].replicas).reverse().slice(0, 30);
    const table = el("table", { class: "decisions" });
    const head = el("tr"); for (const h of ["time", "replicas", "members", "lag", "arrivals / s", "reason"]) head.append(el("th", {}, h));
    table.append(el("thead"), el("tbody")); table.tHead.append(head);
    for (const p of changes) {
      const tr = el("tr", { "data-at": p.at });
      tr.append(el("td", {}, new Date(p.at).toLocaleTimeString()), el("td", { class: "num replicas" }, fmt(p.replicas)), el("td", { class: "num" }, fmt(p.members)),
        el("td", { class: "num" }, fmt(p.lag)), el("td", { class: "num" }, fmt(p.arrivalRate)), el("td", { class: "reason" }, p.reason));
      table.tBodies[0].append(tr);
    }
    section.append(table);
    return section;
  }));
}
pollStatus(render);
</script>
</body>
</html>
`
