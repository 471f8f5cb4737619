// Every request with its coverage, gaps, uncovered paths, overdue and trend; refreshed by
// polling /v1/gap-counts with If-None-Match (a 304 costs the service next to nothing).
import { call, companyNames, enc, get, getIfAllowed, whoAmI } from "./api.js";
import { h, problemBox, render } from "./dom.js";
import { integer, percent, sparkline } from "./format.js";
import { incidentsSection } from "./incidents.js";

const POLL_MS = 15000;
const WEEK_S = 7 * 86400;  // trend points: weekly keeps the history cheap at any size

export async function show() {
  const me = await whoAmI();
  const requests = me.role === "viewer" ? null : await get("/v1/requests");
  const counts = await call("/v1/gap-counts");
  const rows = mergeRows(requests, counts.body.requests);
  const names = await companyNames(rows.map((r) => r.issuer_id).filter(Boolean));
  const incidents = incidentsSection();
  render(h("h1", {}, "Requests"), requestTable(rows, names),
    h("p", { class: "muted", id: "refreshed" }, `Figures as of ${timeNow()}`),
    incidents.section);
  drawTrends(rows);
  incidents.load().catch((error) => incidents.section.append(problemBox(error)));
  poll(counts.etag);
}

// The requests the key may list, with their counts; a viewer key lists no requests, so
// its rows come from the gap counts alone.
function mergeRows(requests, countRows) {
  const byId = new Map(countRows.map((c) => [c.request_id, c]));
  const listed = requests || countRows.map((c) => ({ id: c.request_id, topic: c.topic }));
  return listed.map((r) => ({ ...r, counts: byId.get(r.id) || null }));
}

function requestTable(rows, names) {
  return h("table", { class: "requests", id: "requests" },
    h("caption", { class: "visually-hidden" }, "Requests and their coverage"),
    h("thead", {}, h("tr", {}, ["Request", "Topic", "Issuer", "Coverage", "Gaps",
      "Uncovered paths", "Overdue", "Trend"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", { "data-request": r.id },
      h("th", { scope: "row" }, h("a", { href: `/ui/requests/${enc(r.id)}` }, r.title || r.id)),
      h("td", {}, r.topic || ""),
      h("td", {}, r.issuer_id ? names.get(r.issuer_id) || r.issuer_id : "—"),
      figureCells(r.counts), h("td", { class: "trend", "data-field": "trend" })))));
}

function figureCells(counts) {
  const cell = (field, text) => h("td", { class: "num", "data-field": field }, text);
  return [
    cell("coverage", counts ? percent(counts.coverage_ratio) : "—"),
    cell("gaps", counts ? integer(counts.gaps) : "—"),
    cell("uncovered_paths", counts ? integer(counts.uncovered_paths) : "—"),
    cell("overdue", counts ? integer(counts.overdue) : "—"),
  ];
}

async function drawTrends(rows) {
  for (const row of rows) {
    const history = await getIfAllowed(
      `/v1/requests/${enc(row.id)}/coverage/history?step=${WEEK_S}`);
    const cell = document.querySelector(`tr[data-request="${CSS.escape(row.id)}"] .trend`);
    if (history && cell) cell.replaceChildren(sparkline(history.points.map((p) => p.coverage_ratio)));
  }
}

function poll(etag) {
  setTimeout(async () => {
    try {
      const answer = await call("/v1/gap-counts", { etag });
      if (!answer.notModified) update(answer.body.requests);
      document.getElementById("refreshed").textContent = `Figures as of ${timeNow()}`;
      poll(answer.etag || etag);
    } catch (_) {
      poll(etag);  // a failed poll keeps the last figures; the next one tries again
    }
  }, POLL_MS);
}

function update(countRows) {
  for (const counts of countRows) {
    const row = document.querySelector(`tr[data-request="${CSS.escape(counts.request_id)}"]`);
    if (!row) continue;
    row.querySelectorAll("td.num").forEach((cell) => cell.remove());
    row.querySelector(".trend").before(...figureCells(counts));
  }
}

const timeNow = () => new Date().toLocaleTimeString("en-GB");
