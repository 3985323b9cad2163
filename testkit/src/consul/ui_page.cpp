// The Consul fake's web UI: one self-contained page (no external assets, no build step) that
// reads the agent only through the public HTTP API, as Consul's own UI does. It is served for
// /ui/ and every /ui/... path (ui.cpp); the views are hash routes:
//   #/services, #/services/<name>, #/nodes, #/kv/<prefix>/ (a folder) or #/kv/<key>.
// Elements carry data-* attributes (data-service, data-check-status, data-node, data-kv-key)
// for tests to assert on. It refreshes with blocking queries (Consul's HTTP API docs: ?index= and
// ?wait=), one round at most every second as those docs advise rate-limiting such loops; a
// headless browser's virtual time stands still while a blocking query is pending, so the tests
// take the page before the first round ends (tests/system/consul_ui/).
#include "ui.hpp"

namespace cbes::testkit::consul_fake {

std::string_view ui_page() {
  static constexpr std::string_view page = R"consului(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Consul</title>
<link rel="icon" href="data:,">
<style>
:root {
  --bg: #f5f6f8; --panel: #fff; --text: #1f2328; --muted: #5f6b7a; --line: #d9dee5;
  --soft: #f6f8fa; --link: #0b63ce; --brand: #e03875; --top: #15181d;
  --pass: #137333; --pass-bg: #dcf5e3; --warn: #8a5a00; --warn-bg: #fff4c2;
  --crit: #c5221f; --crit-bg: #fde7e6; --none: #5f6b7a; --none-bg: #eceff3;
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body {
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif;
  background: var(--bg); color: var(--text);
}
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; }

header.top {
  display: flex; align-items: center; gap: 28px; height: 56px; padding: 0 28px;
  background: var(--top); color: #fff; box-shadow: 0 1px 0 #000;
}
.brand { display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 17px; }
.brand svg { width: 26px; height: 26px; }
.dc {
  font-size: 12px; font-weight: 600; color: #d0d7de; border: 1px solid #3d444d;
  border-radius: 999px; padding: 1px 10px; margin-left: 4px;
}
nav.tabs { display: flex; gap: 22px; align-self: stretch; }
nav.tabs a {
  display: flex; align-items: center; color: #aab4bf; font-weight: 600;
  border-bottom: 3px solid transparent; padding-top: 3px;
}
nav.tabs a:hover { color: #fff; text-decoration: none; }
nav.tabs a.active { color: #fff; border-bottom-color: var(--brand); }
.agent { margin-left: auto; display: flex; align-items: center; gap: 14px; font-size: 12px;
         color: #9aa4af; }
.live::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%;
                background: #3fb950; margin-right: 6px; vertical-align: 0; }
.live.down::before { background: #f85149; }
.live.locked::before { background: #d29922; }
.dc:empty { display: none; }
button {
  font: inherit; font-size: 13px; font-weight: 600; border-radius: 6px; cursor: pointer;
  padding: 6px 14px; border: 1px solid var(--brand); background: var(--brand); color: #fff;
}
button.quiet { background: transparent; border-color: #3d444d; color: #d0d7de; padding: 3px 10px;
               font-size: 12px; }

main { max-width: 1180px; margin: 0 auto; padding: 22px 28px 40px; }
.crumbs { font-size: 13px; color: var(--muted); margin-bottom: 2px; }
.crumbs a + span::before, .crumbs a + a::before { content: " / "; color: #9aa4af; }
h1 { font-size: 22px; margin: 2px 0 16px; display: flex; align-items: center; gap: 12px; }
h1 .count { font-size: 13px; font-weight: 600; color: var(--muted); background: var(--none-bg);
            border-radius: 999px; padding: 1px 9px; }
h2 { font-size: 15px; margin: 0; }

table.list {
  width: 100%; border-collapse: separate; border-spacing: 0; background: var(--panel);
  border: 1px solid var(--line); border-radius: 8px; overflow: hidden;
}
table.list th {
  text-align: left; font-size: 11.5px; font-weight: 700; letter-spacing: .05em;
  text-transform: uppercase; color: var(--muted); background: var(--soft);
  padding: 9px 14px; border-bottom: 1px solid var(--line);
}
table.list td { padding: 10px 14px; border-bottom: 1px solid #edf0f3; vertical-align: top; }
table.list tr:last-child td { border-bottom: 0; }
table.list tbody tr:hover td { background: #fafbfc; }
td.name a, td.name span.key { font-weight: 600; }
td.narrow, th.narrow { width: 1%; white-space: nowrap; }

.pill {
  display: inline-flex; align-items: center; gap: 6px; font-size: 12px; font-weight: 600;
  border-radius: 999px; padding: 1px 10px 1px 8px; margin: 0 6px 2px 0; white-space: nowrap;
}
.pill::before { content: ""; width: 7px; height: 7px; border-radius: 50%;
                background: currentColor; }
.passing { color: var(--pass); background: var(--pass-bg); }
.warning { color: var(--warn); background: var(--warn-bg); }
.critical { color: var(--crit); background: var(--crit-bg); }
.none { color: var(--none); background: var(--none-bg); }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 9px;
       background: var(--none); }
.dot.passing { background: var(--pass); } .dot.warning { background: #d4a72c; }
.dot.critical { background: var(--crit); }
.tag { display: inline-block; font-family: "DejaVu Sans Mono", ui-monospace, monospace;
       font-size: 11.5px; background: #eef1f5; color: #394452; border-radius: 4px;
       padding: 0 6px; margin: 0 4px 2px 0; }
.muted { color: var(--muted); }

.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
        margin-bottom: 16px; overflow: hidden; }
.card-head { display: flex; align-items: center; gap: 16px; flex-wrap: wrap; padding: 12px 16px;
             border-bottom: 1px solid var(--line); background: var(--soft); }
.card-head .addr { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 13px; }
.card table.list { border: 0; border-radius: 0; }
.card-body { padding: 14px 16px; }

pre {
  font-size: 12.5px; line-height: 1.5; background: var(--soft); border: 1px solid var(--line);
  border-radius: 6px; padding: 10px 12px; margin: 0; white-space: pre-wrap;
  word-break: break-word; max-height: 520px; overflow: auto;
}
td pre { padding: 6px 10px; max-height: 200px; }
.notes { font-size: 12.5px; color: var(--muted); margin-top: 4px; }
dl.props { display: grid; grid-template-columns: max-content 1fr; gap: 6px 22px; margin: 0;
           align-items: baseline; }
dl.props dt { color: var(--muted); font-weight: 600; font-size: 12.5px; }
dl.props dd { margin: 0; font-family: "DejaVu Sans Mono", ui-monospace, monospace;
              font-size: 13px; }
.value-head { display: flex; align-items: center; gap: 10px; margin: 18px 0 8px; }
.kind { font-size: 11.5px; font-weight: 700; text-transform: uppercase; letter-spacing: .05em;
        color: var(--muted); background: var(--none-bg); border-radius: 4px; padding: 1px 7px; }
.folder-icon { display: inline-block; width: 16px; height: 12px; margin-right: 8px;
               vertical-align: -1px; border-radius: 2px; background: #8fa6c4; position: relative; }
.folder-icon::before { content: ""; position: absolute; top: -3px; left: 0; width: 7px;
                       height: 4px; border-radius: 2px 2px 0 0; background: #8fa6c4; }
.key-icon { display: inline-block; width: 12px; height: 14px; margin: 0 10px 0 2px;
            vertical-align: -2px; border: 2px solid #9aa4af; border-radius: 2px; }

.empty { background: var(--panel); border: 1px dashed var(--line); border-radius: 8px;
         padding: 30px; text-align: center; color: var(--muted); }
.banner { border-radius: 8px; padding: 14px 18px; margin-bottom: 16px; border: 1px solid; }
.banner.error { background: var(--crit-bg); border-color: #f3b8b5; color: #7d1a17; }
.token { max-width: 560px; margin: 40px auto; }
.token .card-body p { margin: 0 0 14px; color: var(--muted); }
.token form { display: flex; gap: 10px; }
.token input {
  flex: 1; font: inherit; font-family: "DejaVu Sans Mono", ui-monospace, monospace;
  padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px;
}
.token .refused { color: var(--crit); font-weight: 600; }
footer { max-width: 1180px; margin: 0 auto; padding: 0 28px 28px; font-size: 12px;
         color: #8a94a0; }
</style>
</head>
<body>
<header class="top">
  <div class="brand">
    <svg viewBox="0 0 32 32" aria-hidden="true">
      <circle cx="16" cy="16" r="11" fill="none" stroke="#e03875" stroke-width="5"
              stroke-dasharray="52 17" transform="rotate(40 16 16)"/>
      <circle cx="16" cy="16" r="3.5" fill="#e03875"/>
    </svg>
    <span>Consul</span>
    <span class="dc" id="dc" data-datacenter=""></span>
  </div>
  <nav class="tabs">
    <a href="#/services" data-tab="services">Services</a>
    <a href="#/nodes" data-tab="nodes">Nodes</a>
    <a href="#/kv/" data-tab="kv">Key/Value</a>
  </nav>
  <div class="agent">
    <span id="agent"></span>
    <span id="live" class="live">connecting</span>
    <span id="token-state"></span>
  </div>
</header>
<main>
  <div id="view"><p class="muted">Loading…</p></div>
</main>
<footer>
  Read-only view of the cbes-sandbox Consul agent, through its HTTP API at
  <span class="mono" id="api"></span>
</footer>
<script>
"use strict";

const TOKEN_KEY = "cbes-consul-ui.token";
// Consul's HTTP API docs advise rate-limiting blocking-query loops: one round a second at most.
const ROUND_GAP_MS = 1000;
const RETRY_MS = 2000;
const BLOCK_WAIT = "60s";
const STATUSES = ["critical", "warning", "passing"];

const ui = { token: "", self: null, gen: 0, shown: "", abort: null };

// ---------------------------------------------------------------- DOM

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = String(v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

const pill = (status, label, attrs) =>
  el("span", Object.assign({ class: "pill " + status }, attrs || {}), label);
const tags = (list) => (list || []).map((t) => el("span", { class: "tag" }, t));
const empty = (text) => el("div", { class: "empty", "data-empty": "" }, text);

// The status a set of checks adds up to, as Consul's UI shows it: the worst one.
function worst(counts) {
  for (const s of STATUSES) if (counts[s]) return s;
  return "none";
}

function countChecks(checks) {
  const counts = { passing: 0, warning: 0, critical: 0 };
  for (const c of checks) counts[c.Status] = (counts[c.Status] || 0) + 1;
  return counts;
}

function summary(counts) {
  const out = STATUSES.filter((s) => counts[s]).map((s) =>
    pill(s, counts[s] + " " + s, { "data-check-status": s, "data-check-count": counts[s] }));
  return out.length ? out : el("span", { class: "muted" }, "no checks");
}

// ---------------------------------------------------------------- routes

// Keys and names go into hash routes segment by segment, so that a key's slashes stay readable.
const enc = (s) => encodeURIComponent(s);
const encKey = (k) => k.split("/").map(encodeURIComponent).join("/");
function dec(s) {
  try { return decodeURIComponent(s); } catch (e) { return s; }
}

function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const slash = h.indexOf("/");
  const head = slash < 0 ? h : h.slice(0, slash);
  const tail = slash < 0 ? "" : h.slice(slash + 1);
  if (head === "" || head === "services")
    return tail ? { view: "service", tab: "services", name: dec(tail) }
                : { view: "services", tab: "services" };
  if (head === "nodes") return { view: "nodes", tab: "nodes" };
  if (head === "kv") return { view: "kv", tab: "kv", key: tail.split("/").map(dec).join("/") };
  return { view: "unknown", tab: "", path: h };
}

// Deep links by path, as Consul's own UI writes them (/ui/dc1/services/web, /ui/dc1/kv/a/b/),
// become the hash routes this page uses.
function pathToHash() {
  if (location.hash) return;
  const segs = location.pathname.replace(/^\/ui\/?/, "").split("/");
  const views = ["services", "nodes", "kv"];
  if (segs.length > 1 && !views.includes(segs[0])) segs.shift();
  if (!views.includes(segs[0])) return;
  if (segs[0] === "kv" && segs[segs.length - 1] === "edit") segs.pop();
  history.replaceState(null, "", "/ui/" + location.search + "#/" + segs.join("/"));
}

// ---------------------------------------------------------------- HTTP API

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// GET `path`; `missing` (when given) is the body a 404 stands for. Resolves to
// { body, index, path }: the X-Consul-Index is what a later blocking query waits past.
async function api(path, opts) {
  opts = opts || {};
  const headers = {};
  if (ui.token) headers["X-Consul-Token"] = ui.token;
  let res, text;
  try {
    res = await fetch(path, { headers, cache: "no-store", signal: opts.signal });
    text = await res.text();
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "Cannot reach the Consul agent at " + location.host + ".");
  }
  const index = res.headers.get("X-Consul-Index");
  if (res.status === 404 && "missing" in opts) return { body: opts.missing, index, path };
  if (!res.ok) throw new ApiError(res.status, text.trim() || res.statusText);
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) {
    throw new ApiError(res.status, "The agent answered " + path + " with something not JSON.");
  }
  return { body, index, path };
}

// ---------------------------------------------------------------- loaders
// Each returns the data its view shows and passes the answers to watch through `watch`.

const loaders = {
  async services(r, watch) {
    const cat = watch(await api("/v1/catalog/services"));
    // The catalog's index moves with registrations only; checks changing state move this one.
    watch(await api("/v1/health/state/any"));
    const names = Object.keys(cat.body || {}).sort();
    return Promise.all(names.map(async (name) => {
      const h = await api("/v1/health/service/" + enc(name));
      const checks = (h.body || []).flatMap((i) => i.Checks || []);
      return { name, tags: cat.body[name] || [], instances: (h.body || []).length,
               counts: countChecks(checks) };
    }));
  },

  async service(r, watch) {
    const h = watch(await api("/v1/health/service/" + enc(r.name)));
    return {
      name: r.name,
      instances: (h.body || []).map((i) => ({
        id: i.Service.ID, address: i.Service.Address || i.Node.Address, port: i.Service.Port,
        node: i.Node.Node, tags: i.Service.Tags || [],
        checks: (i.Checks || []).map((c) => ({
          id: c.CheckID, name: c.Name, status: c.Status, type: c.Type, output: c.Output,
          notes: c.Notes, service: c.ServiceID })),
      })),
    };
  },

  async nodes(r, watch) {
    const nodes = watch(await api("/v1/catalog/nodes"));
    const checks = watch(await api("/v1/health/state/any"));
    return (nodes.body || []).map((n) => {
      const mine = (checks.body || []).filter((c) => c.Node === n.Node);
      return { name: n.Node, address: n.Address, datacenter: n.Datacenter, id: n.ID,
               nodeChecks: mine.filter((c) => !c.ServiceID)
                               .map((c) => ({ id: c.CheckID, name: c.Name, status: c.Status })),
               serviceCounts: countChecks(mine.filter((c) => c.ServiceID)) };
    });
  },

  async kv(r, watch) {
    const key = r.key;
    if (key === "" || key.endsWith("/")) {
      const res = watch(await api("/v1/kv/" + encKey(key) + "?keys&separator=/", { missing: [] }));
      const entries = (res.body || []).filter((k) => k !== key)
          .map((k) => ({ key: k, folder: k.endsWith("/") }));
      // Folders first, as Consul's UI lists them.
      entries.sort((a, b) => (b.folder - a.folder) ||
                             (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return { kind: "folder", prefix: key, entries };
    }
    const res = watch(await api("/v1/kv/" + encKey(key), { missing: null }));
    return { kind: "key", key, entry: res.body && res.body.length ? res.body[0] : null };
  },

  async unknown() { return null; },
};

// ---------------------------------------------------------------- views

function crumbs(...parts) {
  return el("div", { class: "crumbs" }, parts);
}

const views = {
  services(rows) {
    document.title = "Services - Consul";
    return el("section", { "data-view": "services" },
      el("h1", {}, "Services", el("span", { class: "count" }, rows.length)),
      rows.length === 0 ? empty("No services are registered.") :
      el("table", { class: "list" },
        el("thead", {}, el("tr", {},
          el("th", {}, "Service"), el("th", {}, "Health checks"),
          el("th", {}, "Instances"), el("th", {}, "Tags"))),
        el("tbody", {}, rows.map((s) => {
          const status = worst(s.counts);
          return el("tr", { "data-service": s.name, "data-service-status": status },
            el("td", { class: "name" }, el("span", { class: "dot " + status }),
               el("a", { href: "#/services/" + enc(s.name) }, s.name)),
            el("td", {}, summary(s.counts)),
            el("td", { "data-instances": s.instances },
               s.instances + (s.instances === 1 ? " instance" : " instances")),
            el("td", {}, tags(s.tags)));
        }))));
  },

  service(m) {
    document.title = m.name + " - Services - Consul";
    const status = worst(countChecks(m.instances.flatMap((i) => i.checks)
                                                .map((c) => ({ Status: c.status }))));
    return el("section", { "data-view": "service", "data-service": m.name,
                           "data-service-status": status },
      crumbs(el("a", { href: "#/services" }, "Services"), el("span", {}, m.name)),
      el("h1", {}, m.name, status === "none" ? null : pill(status, status),
         el("span", { class: "count" },
            m.instances.length + (m.instances.length === 1 ? " instance" : " instances"))),
      m.instances.length === 0 ? empty("No instance of " + m.name + " is registered.") :
      m.instances.map((i) => el("div", { class: "card", "data-instance": i.id },
        el("div", { class: "card-head" },
          el("h2", {}, i.id),
          el("span", { class: "addr", "data-address": i.address + ":" + i.port },
             i.address + ":" + i.port),
          el("span", { class: "muted" }, "node ", el("a", { href: "#/nodes" }, i.node)),
          el("span", {}, tags(i.tags))),
        el("table", { class: "list" },
          el("thead", {}, el("tr", {},
            el("th", { class: "narrow" }, "Status"), el("th", {}, "Check"),
            el("th", { class: "narrow" }, "Type"), el("th", {}, "Output"))),
          el("tbody", {}, i.checks.map((c) =>
            el("tr", { "data-check": c.id, "data-check-status": c.status },
              el("td", { class: "narrow" }, pill(c.status, c.status)),
              el("td", {}, el("div", {}, el("b", {}, c.name)),
                 el("div", { class: "muted mono" }, c.id)),
              el("td", { class: "narrow" }, c.type || "serf",
                 c.service ? null : el("div", { class: "muted" }, "node check")),
              el("td", {},
                 c.output ? el("pre", { "data-check-output": "" }, c.output)
                          : el("span", { class: "muted" }, "no output"),
                 c.notes ? el("div", { class: "notes" }, c.notes) : null))))))));
  },

  nodes(rows) {
    document.title = "Nodes - Consul";
    return el("section", { "data-view": "nodes" },
      el("h1", {}, "Nodes", el("span", { class: "count" }, rows.length)),
      rows.length === 0 ? empty("No nodes.") :
      el("table", { class: "list" },
        el("thead", {}, el("tr", {},
          el("th", {}, "Node"), el("th", {}, "Address"), el("th", {}, "Datacenter"),
          el("th", {}, "Node checks"), el("th", {}, "Service checks"))),
        el("tbody", {}, rows.map((n) => {
          const status = worst(countChecks(n.nodeChecks.map((c) => ({ Status: c.status }))));
          return el("tr", { "data-node": n.name, "data-node-status": status },
            el("td", { class: "name" }, el("span", { class: "dot " + status }),
               el("b", {}, n.name), el("div", { class: "muted mono" }, n.id)),
            el("td", { class: "mono" }, n.address),
            el("td", { "data-node-datacenter": n.datacenter }, n.datacenter),
            el("td", {}, n.nodeChecks.map((c) =>
              pill(c.status, c.name, { "data-check": c.id, "data-check-status": c.status,
                                       title: c.id + ": " + c.status }))),
            el("td", {}, summary(n.serviceCounts)));
        }))));
  },

  kv(m) {
    const path = m.kind === "folder" ? m.prefix : m.key;
    const segs = path.split("/");
    if (m.kind === "folder") segs.pop();
    const trail = [el("a", { href: "#/kv/" }, "Key/Value")];
    let sofar = "";
    segs.forEach((s, n) => {
      sofar += s + "/";
      const last = n === segs.length - 1;
      trail.push(last ? el("span", {}, s) : el("a", { href: "#/kv/" + encKey(sofar) }, s));
    });
    const title = segs.length && segs[segs.length - 1] !== "" ? segs[segs.length - 1]
                                                              : "Key/Value";
    document.title = title + " - Key/Value - Consul";
    if (m.kind === "folder") {
      return el("section", { "data-view": "kv", "data-kv-prefix": m.prefix },
        crumbs(trail.length > 1 ? trail : []),
        el("h1", {}, title + (m.prefix ? "/" : ""),
           el("span", { class: "count" }, m.entries.length)),
        m.entries.length === 0 ? empty(m.prefix ? "No keys under " + m.prefix
                                                : "The key/value store is empty.") :
        el("table", { class: "list" },
          el("thead", {}, el("tr", {}, el("th", {}, "Key"), el("th", { class: "narrow" }, ""))),
          el("tbody", {}, m.entries.map((e) => {
            const name = e.key.slice(m.prefix.length);
            return el("tr", { "data-kv-key": e.key, "data-kv-folder": e.folder },
              el("td", { class: "name" }, el("span", { class: e.folder ? "folder-icon"
                                                                        : "key-icon" }),
                 el("a", { href: "#/kv/" + encKey(e.key) }, name)),
              el("td", { class: "narrow muted" }, e.folder ? "folder" : "key"));
          }))));
    }
    const e = m.entry;
    if (!e)
      return el("section", { "data-view": "kv", "data-kv-missing": m.key },
        crumbs(trail), el("h1", {}, title), empty("There is no key " + m.key + "."));
    const v = decodeValue(e.Value);
    return el("section", { "data-view": "kv", "data-kv-entry": e.Key },
      crumbs(trail),
      el("h1", {}, title),
      el("div", { class: "card" }, el("div", { class: "card-body" },
        el("dl", { class: "props" },
          el("dt", {}, "Key"), el("dd", {}, e.Key),
          el("dt", {}, "Flags"), el("dd", { "data-kv-flags": e.Flags }, e.Flags),
          el("dt", {}, "Session"), el("dd", { "data-kv-session": e.Session || "" },
                                        e.Session || "—"),
          el("dt", {}, "LockIndex"), el("dd", {}, e.LockIndex),
          el("dt", {}, "CreateIndex"), el("dd", {}, e.CreateIndex),
          el("dt", {}, "ModifyIndex"), el("dd", { "data-kv-modify-index": e.ModifyIndex },
                                           e.ModifyIndex)),
        el("div", { class: "value-head" }, el("h2", {}, "Value"),
           el("span", { class: "kind", "data-kv-kind": v.kind }, v.label)),
        v.kind === "empty" ? el("div", { class: "muted" }, "(empty)")
                           : el("pre", { "data-kv-value": "" }, v.text))));
  },

  unknown(m, r) {
    return empty("No such view: #/" + r.path);
  },
};

// A KV value comes base64-encoded (Consul's KV API docs); shown as text, pretty-printed when it
// is a JSON object or array, and as base64 when it is not UTF-8.
function decodeValue(b64) {
  if (b64 === null || b64 === undefined || b64 === "") return { kind: "empty", label: "empty" };
  let bytes;
  try {
    bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch (e) {
    return { kind: "base64", label: "base64", text: b64 };
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    return { kind: "binary", label: "binary, " + bytes.length + " bytes, base64", text: b64 };
  }
  const t = text.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return { kind: "json", label: "JSON", text: JSON.stringify(JSON.parse(t), null, 2) };
    } catch (e) { /* not JSON after all: shown as text */ }
  }
  return { kind: "text", label: "text, " + bytes.length + " bytes", text };
}

function errorView(err) {
  if (err.status === 403) {
    const input = el("input", { type: "password", id: "token-input", "data-token-input": "",
                                placeholder: "SecretID", autocomplete: "off" });
    return el("section", { class: "card token", "data-token-prompt": "" },
      el("div", { class: "card-head" }, el("h2", {}, "ACL token required")),
      el("div", { class: "card-body" },
        ui.token ? el("p", { class: "refused", "data-token-refused": "" },
                      "The agent refused the token in use: " + err.message + ".") : null,
        el("p", {}, "This agent enforces ACLs (cbes-sandbox --consul-acl-token). Enter the " +
                    "token to browse it; it is kept in this browser and sent as X-Consul-Token."),
        el("form", { onsubmit: (ev) => { ev.preventDefault(); useToken(input.value.trim()); } },
           input, el("button", { type: "submit" }, "Use token"))));
  }
  const what = err.status ? "The agent answered " + err.status + ": " : "";
  return el("div", { class: "banner error", "data-error": err.status },
    el("b", {}, what + err.message), el("div", {}, "Retrying every " + RETRY_MS / 1000 + " s."));
}

// ---------------------------------------------------------------- refresh loop

function showTop(r, err) {
  for (const a of document.querySelectorAll("nav.tabs a"))
    a.classList.toggle("active", a.dataset.tab === r.tab);
  const dc = document.getElementById("dc");
  if (ui.self) {
    const c = ui.self.Config || {};
    dc.textContent = c.Datacenter;
    dc.dataset.datacenter = c.Datacenter;
    document.getElementById("agent").textContent =
      "node " + c.NodeName + " · Consul " + c.Version;
  }
  const live = document.getElementById("live");
  const state = !err ? "up" : err.status === 403 ? "locked" : "down";
  live.className = "live " + state;
  live.textContent = state === "up" ? "live" : state === "locked" ? "token needed"
                   : err.status ? "agent error " + err.status : "agent unreachable";
  const ts = document.getElementById("token-state");
  ts.replaceChildren(ui.token ? el("button", { class: "quiet", "data-forget-token": "",
                                               onclick: () => useToken("") }, "Forget token")
                              : "");
}

function show(r, model, err) {
  showTop(r, err);
  const key = JSON.stringify([location.hash, model, err && [err.status, err.message], ui.token]);
  if (key === ui.shown) return;  // unchanged: keep the DOM (and what is typed in it)
  ui.shown = key;
  document.getElementById("view").replaceChildren(
    err ? errorView(err) : views[r.view](model, r));
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// Resolves when one of the watched answers changes (a blocking query on its X-Consul-Index
// returns) or fails; the other queries are aborted.
async function changed(watches) {
  const ctl = new AbortController();
  ui.abort = ctl;
  const polls = watches.filter((w) => w.index).map((w) => {
    const sep = w.path.includes("?") ? "&" : "?";
    const p = api(w.path + sep + "index=" + w.index + "&wait=" + BLOCK_WAIT,
                  { signal: ctl.signal, missing: null });
    p.catch(() => {});
    return p;
  });
  if (polls.length === 0) return sleep(RETRY_MS);
  try { await Promise.race(polls); } catch (e) { /* the next round reports it */ }
  ctl.abort();
}

async function run(gen) {
  while (gen === ui.gen) {
    const r = route();
    const watches = [];
    let model = null, err = null;
    try {
      if (!ui.self) ui.self = (await api("/v1/agent/self")).body;
      model = await loaders[r.view](r, (res) => { watches.push(res); return res; });
    } catch (e) {
      err = e instanceof ApiError ? e : new ApiError(0, String(e));
    }
    if (gen !== ui.gen) return;
    show(r, model, err);
    await sleep(err ? RETRY_MS : ROUND_GAP_MS);
    if (gen !== ui.gen) return;
    if (!err) await changed(watches);
  }
}

function restart() {
  if (ui.abort) ui.abort.abort();
  ui.gen += 1;
  run(ui.gen);
}

function useToken(t) {
  ui.token = t;
  try {
    if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
  } catch (e) { /* storage off: the token lasts as long as the page */ }
  if (!t && location.search) history.replaceState(null, "", location.pathname + location.hash);
  ui.self = null;
  ui.shown = "";
  restart();
}

(function start() {
  const fromUrl = new URLSearchParams(location.search).get("token");
  let stored = "";
  try { stored = localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { /* storage off */ }
  ui.token = fromUrl !== null ? fromUrl : stored;
  if (fromUrl) {
    try { localStorage.setItem(TOKEN_KEY, fromUrl); } catch (e) { /* storage off */ }
  }
  document.getElementById("api").textContent = location.origin + "/v1/";
  pathToHash();
  window.addEventListener("hashchange", () => {
    ui.shown = "";
    showTop(route(), null);
    document.getElementById("view").replaceChildren(el("p", { class: "muted" }, "Loading…"));
    restart();
  });
  restart();
})();
</script>
</body>
</html>
)consului";
  return page;
}

}  // namespace cbes::testkit::consul_fake
