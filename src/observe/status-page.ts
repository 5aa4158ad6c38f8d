/**
 * `GET /status/page`: one self-contained HTML page (no build step, no CDN, no dependency: it works offline and behind
 * any proxy) that polls `GET /status` every second and shows this instance's tasks, lag, rates, restoration, recent
 * rebalances, its stores and the topology as a graph (an inline SVG drawn from `topologyGraph`). Rates are the
 * differences between two answers over their `time`.
 *
 * The page itself carries no data; how it polls `/status` and takes the token is status-page-polling.ts', shared with
 * the scaler's page.
 */
import { STATUS_POLLING_HTML, statusPollingScript } from './status-page-polling.ts'
/** The pages run only their own inline script and talk only to their server (no favicon request: a data: icon). */
export const STATUS_PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:"

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Streamlane status</title>
<link rel="icon" href="data:,">
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
  body { margin: 0 auto; max-width: 1100px; padding: 1rem 1.5rem 3rem; }
  h1 { font-size: 1.3rem; margin: 0.3rem 0; }
  h2 { font-size: 1rem; margin: 1.6rem 0 0.5rem; }
  .meta { color: #5b6475; font-size: 0.85rem; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 0.6rem; margin-top: 1rem; }
  .card { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 0.6rem 0.8rem; }
  .card .label { color: #5b6475; font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.03em; }
  .card .value { font-size: 1.35rem; font-variant-numeric: tabular-nums; margin-top: 0.2rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde1e8; font-size: 0.85rem; }
  th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #eef0f4; vertical-align: top; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .state { display: inline-block; padding: 0.1rem 0.5rem; border-radius: 4px; background: #e3e7ee; font-weight: 600; }
  .state.RUNNING { background: #d5f2dd; color: #14632c; }
  .state.REBALANCING { background: #fdf0c8; color: #7a5a00; }
  .state.ERROR, .state.NOT_RUNNING { background: #f9d6d6; color: #8a1c1c; }
  .kind-restoring { color: #7a5a00; } .kind-standby, .kind-warmup { color: #5b6475; }
  progress { width: 8rem; vertical-align: middle; }
  pre { background: #fff; border: 1px solid #dde1e8; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
  #error { color: #8a1c1c; margin-top: 0.6rem; }
  form { margin-top: 0.6rem; } input { font: inherit; width: 22rem; }
  .empty { color: #5b6475; font-style: italic; }
  #topology-graph { background: #fff; border: 1px solid #dde1e8; max-width: 100%; }
  #topology-graph text { font-size: 11px; fill: #1d2330; } #topology-graph text.detail { fill: #5b6475; } #topology-graph text.band { font-weight: 600; }
  #topology-graph rect { fill: #fff; stroke: #9aa3b5; rx: 5; } #topology-graph .node-source rect { fill: #e6efff; } #topology-graph .node-sink rect { fill: #e5f6ea; }
  #topology-graph path { fill: none; stroke: #8a93a6; } #topology-graph path.link { stroke: #b07d00; stroke-dasharray: 5 4; }
  details summary { cursor: pointer; color: #5b6475; font-size: 0.85rem; margin-top: 0.4rem; }
</style>
</head>
<body>
<h1>Streamlane <span id="app-id"></span> <span id="state" class="state">…</span></h1>
<div class="meta" id="meta">loading /status…</div>
${STATUS_POLLING_HTML}
<div class="cards">
  <div class="card"><div class="label">processed / s</div><div class="value" id="processed-rate">–</div></div>
  <div class="card"><div class="label">processed</div><div class="value" id="total-processed">–</div></div>
  <div class="card"><div class="label">committed</div><div class="value" id="total-committed">–</div></div>
  <div class="card"><div class="label">lag (max partition)</div><div class="value" id="lag-max">–</div></div>
  <div class="card"><div class="label">lag (sum)</div><div class="value" id="lag-sum">–</div></div>
  <div class="card"><div class="label">sent / s</div><div class="value" id="sent-rate">–</div></div>
  <div class="card"><div class="label">restore left</div><div class="value" id="restore-remaining">–</div></div>
  <div class="card"><div class="label">skipped · dropped</div><div class="value" id="bad-records">–</div></div>
</div>
<h2>Tasks</h2>
<table id="tasks"><thead><tr><th>task</th><th>kind</th><th>partitions (lag)</th><th class="num">processed</th><th class="num">per s</th><th>restoration</th></tr></thead><tbody></tbody></table>
<h2>Recent rebalances</h2>
<table id="rebalances"><thead><tr><th>started</th><th>cause</th><th>reason</th><th class="num">took</th><th class="num">generation</th><th class="num">tasks</th></tr></thead><tbody></tbody></table>
<h2>State stores</h2>
<table id="stores"><thead><tr><th>store</th><th class="num">entries</th><th class="num">cache hit ratio</th><th class="num">restored</th><th class="num">restore left</th><th class="num">gets / s</th><th class="num">puts / s</th><th class="num">get µs</th><th class="num">put µs</th></tr></thead><tbody></tbody></table>
<h2>Topology</h2>
<svg id="topology-graph" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="topology graph"></svg>
<details><summary>as text</summary><pre id="topology"></pre></details>
<script>
${statusPollingScript(1_000)}
let previous = null;
function cell(text, className) { const td = document.createElement("td"); td.textContent = text; if (className) td.className = className; return td; }
function fill(tbody, rows, empty, columns) {
  tbody.replaceChildren();
  if (rows.length === 0) { const tr = document.createElement("tr"); const td = cell(empty, "empty"); td.colSpan = columns; tr.append(td); tbody.append(tr); }
  for (const row of rows) tbody.append(row);
}
function rate(now, before, pick) {
  if (!before || now.time <= before.time) return null;
  return Math.max(0, (pick(now) - pick(before)) * 1000 / (now.time - before.time));
}
function render(s) {
  $("app-id").textContent = s.application.id;
  $("state").textContent = s.application.state; $("state").className = "state " + s.application.state;
  $("meta").textContent = "version " + s.application.version + " · topology " + s.application.topologyHash + " · process " + s.application.processId +
    " · generation " + (s.membership.generation ?? "–") + (s.membership.rebalanceInProgress ? " · rebalancing" : "") + " · updated " + new Date(s.time).toLocaleTimeString();
  $("total-processed").textContent = fmt(s.totals.processed);
  $("total-committed").textContent = fmt(s.totals.committed);
  $("lag-max").textContent = fmt(s.lag.max);
  $("lag-sum").textContent = fmt(s.lag.sum);
  $("processed-rate").textContent = fmt(rate(s, previous, (x) => x.totals.processed));
  $("sent-rate").textContent = fmt(rate(s, previous, (x) => x.totals.sent));
  $("restore-remaining").textContent = fmt(s.totals.restoreRemaining);
  $("bad-records").textContent = fmt(s.totals.skipped) + " · " + fmt(s.totals.dropped);
  const before = new Map((previous?.tasks ?? []).map((t) => [t.id, t]));
  fill($("tasks").tBodies[0], s.tasks.map((t) => {
    const tr = document.createElement("tr"); tr.dataset.task = t.id;
    const partitions = t.kind === "standby" || t.kind === "warmup" ? "changelog lag " + fmt(t.changelogLag) : t.partitions.map((p) => p.topic + "-" + p.partition + " (" + fmt(p.lag) + ")").join(", ");
    const old = before.get(t.id);
    const perSecond = t.processed === null || !old || old.processed === null ? null : rate({ time: s.time, v: t.processed }, { time: previous.time, v: old.processed }, (x) => x.v);
    const restoring = cell("");
    if (t.restore) {
      const bar = document.createElement("progress"); bar.max = Math.max(1, t.restore.recordsTotal); bar.value = t.restore.recordsDone;
      restoring.append(bar, " " + fmt(t.restore.recordsDone) + " / " + fmt(t.restore.recordsTotal) + (t.restore.finished ? " done" : " at " + fmt(t.restore.recordsPerSecond) + "/s"));
    }
    tr.append(cell(t.id, "task"), cell(t.kind, "kind kind-" + t.kind), cell(partitions, "partitions"), cell(fmt(t.processed), "num processed"), cell(fmt(perSecond), "num rate"), restoring);
    return tr;
  }), "no tasks assigned", 6);
  fill($("rebalances").tBodies[0], s.rebalances.map((r) => {
    const tr = document.createElement("tr");
    tr.append(cell(new Date(r.startedAt).toLocaleTimeString()), cell(r.cause), cell(r.reason), cell(r.durationMs === undefined ? "…" : (r.durationMs / 1000).toFixed(2) + " s", "num"), cell(r.generation ?? "–", "num"), cell(r.tasks ?? "–", "num"));
    return tr;
  }), "none yet", 6);
  const storesBefore = new Map((previous?.stores ?? []).map((st) => [st.store, st]));
  fill($("stores").tBodies[0], s.stores.map((st) => {
    const tr = document.createElement("tr"); tr.dataset.store = st.store; const reads = st.cacheHits + st.cacheMisses;
    const old = storesBefore.get(st.store)?.operations; const ops = st.operations;
    const perSecond = (op) => !ops || !old ? null : rate({ time: s.time, v: ops[op].count }, { time: previous.time, v: old[op].count }, (x) => x.v);
    // Mean since the last answer when there were operations in between, else since start.
    const micros = (op) => { if (!ops) return "–"; const n = ops[op].count - (old ? old[op].count : 0), t = ops[op].seconds - (old ? old[op].seconds : 0);
      const [count, seconds] = n > 0 ? [n, t] : [ops[op].count, ops[op].seconds]; return count > 0 ? (1e6 * seconds / count).toFixed(1) : "–"; };
    tr.append(cell(st.store, "store"), cell(fmt(st.entries), "num entries"), cell(reads === 0 ? "–" : (100 * st.cacheHits / reads).toFixed(1) + " %", "num"),
      cell(fmt(st.restored), "num restored"), cell(fmt(st.restoreRemaining), "num restore-left"), cell(fmt(perSecond("get")), "num"), cell(fmt(perSecond("put")), "num"),
      cell(micros("get"), "num get-micros"), cell(micros("put"), "num put-micros"));
    return tr;
  }), "no state stores", 9);
  $("topology").textContent = s.topology;
  drawGraph(s.topologyGraph);
  previous = s;
}
const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attributes, text) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}
const clip = (text, max) => text.length > max ? text.slice(0, max - 1) + "…" : text;
let drawnGraph = "";
// The topology does not change while the app runs: drawn on the first answer (again only if it differs).
function drawGraph(g) {
  const key = JSON.stringify(g); if (key === drawnGraph) return; drawnGraph = key;
  const W = 190, H = 40, GX = 44, GY = 12, BAND = 24, PAD = 8;
  const root = $("topology-graph"); root.replaceChildren();
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 8 8", refX: 8, refY: 4, markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(svg("path", { d: "M0,0 L8,4 L0,8 z", fill: "#8a93a6" })); const defs = svg("defs", {}); defs.append(marker); root.append(defs);
  const at = new Map(); let top = PAD, width = 0;
  for (const sub of g.subtopologies) {
    root.append(svg("text", { x: PAD, y: top + 14, class: "band" }, "sub-topology " + sub.id));
    for (const n of g.nodes.filter((n) => n.subtopology === sub.id)) at.set(n.name, { x: PAD + n.column * (W + GX), y: top + BAND + n.row * (H + GY), node: n });
    top += BAND + sub.rows * (H + GY) + PAD; width = Math.max(width, PAD * 2 + sub.columns * (W + GX) - GX);
  }
  root.setAttribute("width", width); root.setAttribute("height", top); root.setAttribute("viewBox", "0 0 " + width + " " + top);
  const curve = (a, b) => { const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, dx = Math.max(30, Math.abs(x2 - x1) / 2);
    return "M" + x1 + "," + y1 + " C" + (x1 + dx) + "," + y1 + " " + (x2 - dx) + "," + y2 + " " + x2 + "," + y2; };
  for (const e of g.edges) if (at.has(e.from) && at.has(e.to)) root.append(svg("path", { d: curve(at.get(e.from), at.get(e.to)), "marker-end": "url(#arrow)" }));
  // A link goes down from a sink to the source of a later sub-topology that reads its topic (up for an earlier one).
  const drop = (a, b) => { const down = b.y > a.y, x1 = a.x + W / 2, y1 = down ? a.y + H : a.y, x2 = b.x + W / 2, y2 = down ? b.y : b.y + H, dy = (y2 - y1) / 2;
    return "M" + x1 + "," + y1 + " C" + x1 + "," + (y1 + dy) + " " + x2 + "," + (y2 - dy) + " " + x2 + "," + y2; };
  for (const l of g.links) if (at.has(l.from) && at.has(l.to)) {
    const path = svg("path", { d: drop(at.get(l.from), at.get(l.to)), class: "link", "marker-end": "url(#arrow)", "data-topic": l.topic });
    path.append(svg("title", {}, "topic " + l.topic)); root.append(path);
  }
  for (const { x, y, node } of at.values()) {
    const group = svg("g", { class: "node node-" + node.kind, "data-node": node.name, transform: "translate(" + x + "," + y + ")" });
    const detail = node.kind === "processor" ? (node.stores.length ? "stores: " + node.stores.join(", ") : "") : node.topics.join(", ");
    group.append(svg("title", {}, node.kind + " " + node.name + (detail ? " · " + detail : "")), svg("rect", { width: W, height: H }),
      svg("text", { x: 8, y: 16 }, clip(node.name, 30)), svg("text", { x: 8, y: 31, class: "detail" }, clip(detail || node.kind, 32)));
    root.append(group);
  }
}
pollStatus(render);
</script>
</body>
</html>
`
