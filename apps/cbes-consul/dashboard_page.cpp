// The group dashboard's page: one self-contained document (no external assets, no build step),
// so that `cbes-consul status --serve` works on a host without network access. It polls
// status.json (the `status --json` object) every second and draws it; everything it shows is
// set with textContent/setAttribute, never parsed as HTML, since endpoint ids come from Consul.
//
// Elements tests read: header#top [data-group, data-leader, data-paused, data-generation],
// .member [data-member, data-vbucket-count, data-member-number, data-cluster-size, data-written,
// data-throughput], #map [data-cells, data-owned, data-unowned, data-conflicts], #banner
// [data-error] (present while the last fetch failed).
#include "dashboard.hpp"

namespace cbes::consul_cli {

namespace {

constexpr std::string_view page = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cbes group dashboard</title>
<style>
:root {
  --bg: #f3f5f8; --card: #ffffff; --ink: #18202b; --muted: #667085; --line: #e3e7ed;
  --head: #101828; --head-muted: #98a2b3; --unowned: #d0d5dd; --conflict: #e11d48;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background: var(--head); color: #f9fafb; padding: 14px 28px;
  display: flex; align-items: center; gap: 32px; flex-wrap: wrap; }
header h1 { margin: 0; font-size: 17px; font-weight: 600; white-space: nowrap; }
header h1 .group { font-family: var(--mono); font-weight: 600; color: #ffffff; }
header h1 .tool { color: var(--head-muted); font-weight: 400; margin-right: 6px; }
.facts { display: flex; gap: 28px; flex-wrap: wrap; }
.fact .label { display: block; font-size: 10.5px; letter-spacing: .08em; text-transform: uppercase;
  color: var(--head-muted); }
.fact .value { font-family: var(--mono); font-size: 13px; white-space: nowrap; }
.state { margin-left: auto; padding: 7px 18px; border-radius: 999px; font-weight: 700;
  font-size: 14px; letter-spacing: .08em; white-space: nowrap; }
.state.running { background: #065f46; color: #d1fae5; }
.state.paused { background: #f59e0b; color: #1c1002; box-shadow: 0 0 0 3px rgba(245,158,11,.35); }
.state.unknown { background: #344054; color: #d0d5dd; }
#banner { display: none; background: #fef3f2; color: #912018; border-bottom: 1px solid #fda29b;
  padding: 10px 28px; font-weight: 500; }
#banner.show { display: block; }
#banner .detail { font-family: var(--mono); font-weight: 400; }
main { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 22px; padding: 22px 28px;
  align-items: start; }
main.stale { opacity: .55; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  padding: 16px 18px 18px; box-shadow: 0 1px 2px rgba(16,24,40,.05); }
.panel h2 { margin: 0 0 12px; font-size: 12px; letter-spacing: .08em; text-transform: uppercase;
  color: var(--muted); font-weight: 600; display: flex; justify-content: space-between; gap: 16px; }
.panel h2 .aside { text-transform: none; letter-spacing: 0; font-weight: 500; }
#map { display: grid; grid-template-columns: repeat(32, 14px); grid-auto-rows: 14px; gap: 2px; }
#map .cell { border-radius: 2px; background: var(--unowned); }
#map .cell.conflict { background: var(--conflict);
  background-image: repeating-linear-gradient(45deg, rgba(255,255,255,.55) 0 2px, transparent 2px 5px); }
.legend { margin-top: 14px; display: flex; flex-direction: column; gap: 6px; max-width: 510px;
  font-size: 12.5px; color: var(--muted); }
.legend .row { display: flex; flex-wrap: wrap; gap: 6px 18px; }
.legend .others { margin-top: 4px; padding-top: 8px; border-top: 1px solid var(--line); }
.legend .item { display: inline-flex; align-items: center; gap: 6px; }
.legend .item.alert { color: var(--conflict); font-weight: 700; }
.legend .name { font-family: var(--mono); color: var(--ink); }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; flex: none; }
.swatch.unowned { background: var(--unowned); }
.swatch.conflict { background: var(--conflict); }
#members { display: flex; flex-direction: column; gap: 12px; }
.member { display: grid; grid-template-columns: 6px minmax(0, 1fr); border: 1px solid var(--line);
  border-radius: 10px; overflow: hidden; background: #fcfcfd; }
.member .bar { background: var(--unowned); }
.member .body { padding: 11px 14px 12px; min-width: 0; }
.member .title { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.member .endpoint { font-family: var(--mono); font-weight: 600; font-size: 13.5px;
  overflow-wrap: anywhere; }
.badge { font-size: 11.5px; padding: 1px 8px; border-radius: 999px; background: #eef2f6;
  color: #344054; white-space: nowrap; }
.badge.leader { background: #ede9fe; color: #5b21b6; font-weight: 600; }
.badge.idle { background: #fef0c7; color: #93370d; }
.badge.error { background: #fee4e2; color: #b42318; font-weight: 600; }
.stats { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 8px; margin-top: 9px; }
.stat .label { display: block; font-size: 10.5px; letter-spacing: .07em; text-transform: uppercase;
  color: var(--muted); }
.stat .value { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat .unit { font-size: 12px; font-weight: 400; color: var(--muted); margin-left: 3px; }
.ranges { margin-top: 8px; font-family: var(--mono); font-size: 12px; color: var(--muted);
  overflow-wrap: anywhere; }
.member .problem { margin-top: 6px; font-family: var(--mono); font-size: 12.5px; color: #b42318;
  overflow-wrap: anywhere; }
.empty { color: var(--muted); padding: 8px 0; }
footer { padding: 0 28px 20px; color: var(--muted); font-size: 12px; }
footer code { font-family: var(--mono); }
</style>
</head>
<body>
<header id="top" data-group="" data-leader="" data-paused="" data-generation="">
  <h1><span class="tool">cbes group</span><span class="group" id="group">…</span></h1>
  <div class="facts">
    <div class="fact"><span class="label">Leader</span><span class="value" id="leader">–</span></div>
    <div class="fact"><span class="label">Generation</span><span class="value" id="generation">–</span></div>
    <div class="fact"><span class="label">Workers</span><span class="value" id="worker-count">–</span></div>
    <div class="fact"><span class="label">Throughput</span><span class="value" id="total-rate">–</span></div>
    <div class="fact"><span class="label">Updated</span><span class="value" id="updated">never</span></div>
  </div>
  <div class="state unknown" id="state">LOADING</div>
</header>
<div id="banner" role="alert"></div>
<main id="content">
  <section class="panel">
    <h2><span>Vbuckets</span><span class="aside" id="map-summary"></span></h2>
    <div id="map" data-cells="0" data-owned="0" data-unowned="0" data-conflicts="0"></div>
    <div class="legend" id="legend"></div>
  </section>
  <section class="panel">
    <h2><span>Members</span><span class="aside" id="members-summary"></span></h2>
    <div id="members"><div class="empty">Waiting for the first status…</div></div>
  </section>
</main>
<footer>Served by <code>cbes-consul status --serve</code>; reads <code>status.json</code>
(the <code>status --json</code> object) every second.</footer>
<script>
"use strict";
const POLL_MS = 1000;
const RATE_WINDOW_MS = 5000;  // throughput is averaged over the last few polls
const PALETTE = ["#2563eb", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#c026d3",
                 "#65a30d", "#ca8a04", "#4f46e5", "#0d9488", "#db2777", "#92400e"];
const colours = new Map();   // endpoint -> colour, kept while the page lives
const samples = new Map();   // endpoint -> [{t, written}], newest last
let lastGood = null;         // time of the last successful update

const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
const fmt = (n) => Number(n).toLocaleString("en-US");
const clock = (d) => d.toLocaleTimeString("en-GB", {hour12: false});

// A colour per member that does not change while the page is open; a new member takes the
// first colour no present member uses.
function colourFor(endpoint, present) {
  if (colours.has(endpoint)) return colours.get(endpoint);
  const used = new Set([...present].filter((e) => colours.has(e)).map((e) => colours.get(e)));
  let c = PALETTE.find((p) => !used.has(p));
  if (!c) c = "hsl(" + Math.round((colours.size * 137.508) % 360) + ", 62%, 46%)";
  colours.set(endpoint, c);
  return c;
}

// "0-341" or "1000" -> the vbucket numbers.
function expand(ranges) {
  const out = [];
  for (const r of ranges || []) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(String(r));
    if (!m) continue;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    for (let v = a; v <= b && v - a < 65536; v++) out.push(v);
  }
  return out;
}

// Documents per second over the readings of the last RATE_WINDOW_MS; null until two readings.
// `readAt` is when the server took the reading: a reading served twice (the server shares one
// between the pages polling within a second) is one sample, not a pause in the writes.
function rate(endpoint, written, readAt) {
  if (typeof written !== "number") { samples.delete(endpoint); return null; }
  let list = samples.get(endpoint) || [];
  // A smaller count is another process (a restarted worker): start over.
  if (list.length && written < list[list.length - 1].written) list = [];
  if (!list.length || readAt > list[list.length - 1].t) list.push({t: readAt, written});
  while (list.length > 2 && readAt - list[1].t >= RATE_WINDOW_MS) list.shift();
  samples.set(endpoint, list);
  if (list.length < 2) return null;
  const first = list[0], last = list[list.length - 1];
  const dt = (last.t - first.t) / 1000;
  return dt > 0 ? (last.written - first.written) / dt : null;
}
const rateText = (r) => r === null ? "–" : (r >= 100 ? fmt(Math.round(r)) : r.toFixed(1));

function fact(id, text, title) {
  $(id).textContent = text;
  $(id).title = title || "";
}

function renderHeader(s, generation, totalRate, workers, readAt) {
  const top = $("top");
  top.dataset.group = s.group;
  top.dataset.leader = s.leader || "";
  top.dataset.paused = String(!!s.paused);
  top.dataset.generation = generation === null ? "" : String(generation);
  $("group").textContent = s.group;
  document.title = s.group + " · cbes group dashboard";
  fact("leader", s.leader || "none");
  fact("generation", generation === null ? "–" : String(generation));
  fact("worker-count", String(workers));
  fact("total-rate", totalRate === null ? "–" : rateText(totalRate) + " docs/s");
  fact("updated", clock(new Date(readAt)));
  const state = $("state");
  state.className = "state " + (s.paused ? "paused" : "running");
  state.textContent = s.paused ? "PAUSED" : "RUNNING";
}

function stat(label, value, unit) {
  const d = el("div", "stat");
  d.append(el("span", "label", label));
  const v = el("span", "value", value);
  if (unit) v.append(el("span", "unit", unit));
  d.append(v);
  return d;
}

function renderMembers(workers, leader, readAt) {
  const box = $("members");
  box.replaceChildren();
  if (!workers.length) {
    box.append(el("div", "empty", "No worker has an RPC endpoint in this group."));
    return null;
  }
  let total = null;
  for (const w of workers) {
    const card = el("div", "member");
    card.setAttribute("data-member", w.endpoint);
    card.setAttribute("data-vbucket-count", String(w.vbucketCount || 0));
    const bar = el("div", "bar");
    const body = el("div", "body");
    card.append(bar, body);
    const title = el("div", "title");
    title.append(el("span", "endpoint", w.endpoint));
    body.append(title);
    if (w.error) {
      title.append(el("span", "badge error", "no answer"));
      body.append(el("div", "problem", w.error));
      samples.delete(w.endpoint);
      box.append(card);
      continue;
    }
    bar.style.background = w.colour;
    if (w.endpoint === leader) title.append(el("span", "badge leader", "leader"));
    if (w.membership) {
      card.setAttribute("data-member-number", String(w.membership.memberNumber));
      card.setAttribute("data-cluster-size", String(w.membership.clusterSize));
      title.append(el("span", "badge",
                      "member " + w.membership.memberNumber + " of " + w.membership.clusterSize));
    } else {
      title.append(el("span", "badge idle", "idle"));
    }
    if (w.paused === true) title.append(el("span", "badge idle", "paused"));
    const r = rate(w.endpoint, w.written, readAt);
    if (typeof w.written === "number") card.setAttribute("data-written", String(w.written));
    card.setAttribute("data-throughput", r === null ? "" : r.toFixed(1));
    if (r !== null) total = (total || 0) + r;
    const stats = el("div", "stats");
    stats.append(stat("Vbuckets", fmt(w.vbucketCount || 0)),
                 stat("Backlog", typeof w.backlog === "number" ? fmt(w.backlog) : "–"),
                 stat("Throughput", rateText(r), r === null ? "" : "docs/s"),
                 stat("Written", typeof w.written === "number" ? fmt(w.written) : "–"),
                 stat("Generation", typeof w.generation === "number" ? String(w.generation) : "–"));
    body.append(stats);
    const ranges = (w.vbuckets || []).join(", ");
    body.append(el("div", "ranges", ranges ? "vbuckets " + ranges : "streams no vbucket"));
    box.append(card);
  }
  return total;
}

let cells = [];
function renderMap(s, workers) {
  const owners = new Map();  // vbucket -> [worker]
  let highest = -1;
  for (const w of workers) {
    for (const vb of expand(w.vbuckets)) {
      if (!owners.has(vb)) owners.set(vb, []);
      owners.get(vb).push(w);
      highest = Math.max(highest, vb);
    }
  }
  // The bucket's vbucket count when the status says it; Couchbase's 1024 otherwise.
  const known = Number.isInteger(s.numVbuckets) && s.numVbuckets > 0 ? s.numVbuckets : 1024;
  const count = Math.max(known, highest + 1);
  const map = $("map");
  if (cells.length !== count) {
    map.replaceChildren();
    cells = [];
    for (let vb = 0; vb < count; vb++) {
      const c = el("div", "cell");
      map.append(c);
      cells.push(c);
    }
  }
  let owned = 0, conflicts = 0;
  cells.forEach((c, vb) => {
    const o = owners.get(vb) || [];
    if (o.length === 1) {
      owned++;
      c.className = "cell";
      c.style.background = o[0].colour;
      c.title = "vb " + vb + " → " + o[0].endpoint;
    } else if (o.length > 1) {
      conflicts++;
      c.className = "cell conflict";
      c.style.background = "";
      c.title = "vb " + vb + " → " + o.map((w) => w.endpoint).join(" AND ") +
                " (streamed by two workers!)";
    } else {
      c.className = "cell";
      c.style.background = "";
      c.title = "vb " + vb + " → nobody";
    }
  });
  const unowned = count - owned - conflicts;
  map.dataset.cells = String(count);
  map.dataset.owned = String(owned);
  map.dataset.unowned = String(unowned);
  map.dataset.conflicts = String(conflicts);
  $("map-summary").textContent = fmt(owned) + " of " + fmt(count) + " streamed";

  // One line per member, then the two states no member colour shows.
  const legend = $("legend");
  legend.replaceChildren();
  for (const w of workers) {
    if (w.error) continue;
    const item = el("span", "item");
    const sw = el("span", "swatch");
    sw.style.background = w.colour;
    item.append(sw, el("span", "name", w.endpoint),
                el("span", "", fmt(w.vbucketCount || 0) + " vbuckets"));
    const row = el("div", "row");
    row.append(item);
    legend.append(row);
  }
  const free = el("span", "item");
  free.append(el("span", "swatch unowned"), el("span", "", "unowned (" + fmt(unowned) + ")"));
  const clash = el("span", "item" + (conflicts ? " alert" : ""));
  clash.append(el("span", "swatch conflict"),
               el("span", "", "streamed by two workers (" + fmt(conflicts) + ")" +
                              (conflicts ? " — must never happen" : "")));
  const others = el("div", "row others");
  others.append(free, clash);
  legend.append(others);
}

// Member order: by member number, then idle workers, then those that did not answer.
function ordered(workers) {
  const rank = (w) => w.error ? 2 : (w.membership ? 0 : 1);
  return [...workers].sort((a, b) => rank(a) - rank(b) ||
    (a.membership && b.membership ? a.membership.memberNumber - b.membership.memberNumber : 0) ||
    (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
}

function render(s, readAt) {
  const workers = ordered(Array.isArray(s.workers) ? s.workers : []);
  const present = new Set(workers.map((w) => w.endpoint));
  for (const w of workers) if (!w.error) w.colour = colourFor(w.endpoint, present);
  for (const e of [...samples.keys()]) if (!present.has(e)) samples.delete(e);
  const generations = workers.map((w) => w.generation).filter((g) => typeof g === "number");
  const generation = generations.length ? Math.max(...generations) : null;
  const totalRate = renderMembers(workers, s.leader, readAt);
  renderMap(s, workers);
  const answering = workers.filter((w) => !w.error).length;
  $("members-summary").textContent = answering + " answering" +
      (answering < workers.length ? ", " + (workers.length - answering) + " not" : "");
  renderHeader(s, generation, totalRate, workers.length, readAt);
}

function showError(message) {
  const b = $("banner");
  b.replaceChildren();
  b.append(el("span", "", "Cannot read the group's status: "), el("span", "detail", message),
           el("span", "", lastGood ? " — showing the state of " + clock(lastGood) +
                                     "; retrying every second." : " — retrying every second."));
  b.dataset.error = message;
  b.className = "show";
  $("content").className = lastGood ? "stale" : "";
  if (!lastGood) {
    $("state").className = "state unknown";
    $("state").textContent = "NO DATA";
  }
}

function clearError() {
  const b = $("banner");
  b.className = "";
  b.replaceChildren();
  delete b.dataset.error;
  $("content").className = "";
}

async function poll() {
  try {
    const response = await fetch("status.json", {cache: "no-store"});
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok)
      throw new Error(body && body.error ? body.error : "the dashboard answered HTTP " + response.status);
    if (!body || typeof body !== "object") throw new Error("status.json is not a JSON object");
    // When the server read the group (its clock, not this page's): rates and "Updated".
    const readAt = Number(response.headers.get("X-Read-At")) || Date.now();
    render(body, readAt);
    lastGood = new Date(readAt);
    clearError();
  } catch (e) {
    showError(e instanceof TypeError ? "the dashboard server does not answer (" + e.message + ")"
                                     : e.message);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}
renderMap({}, []);  // the empty grid until the first answer
poll();
</script>
</body>
</html>
)page";

}  // namespace

std::string_view dashboard_page() {
  return page;
}

}  // namespace cbes::consul_cli
