// One request: figures, the tier table as stacked bars, gaps by impact with exports, the
// uncovered-path explorer and a company's standing.
import { companyNames, download, enc, get, getIfAllowed } from "./api.js";
import { chain } from "./chain.js";
import { h, problemBox, render, s } from "./dom.js";
import { integer, label, percent, STATES } from "./format.js";

const GAPS_SHOWN = 20;
const PATHS_PAGE = 10;

export async function show(requestId) {
  const base = `/v1/requests/${enc(requestId)}`;
  const [request, coverage] = await Promise.all([getIfAllowed(base), get(`${base}/coverage`)]);
  const gaps = await get(`${base}/gaps?limit=${GAPS_SHOWN}`);
  const names = await companyNames([coverage.root_id,
    ...gaps.items.flatMap((g) => [g.from_id, g.to_id])]);
  const explorer = h("section", { id: "paths", "aria-labelledby": "paths-h" },
    h("h2", { id: "paths-h" }, "Uncovered paths"));
  render(
    h("p", { class: "crumbs" }, h("a", { href: "/ui/" }, "Overview"), " › ", requestId),
    h("h1", {}, request ? request.title : requestId),
    summary(coverage, request, names),
    h("p", {}, h("a", { href: `/ui/requests/${enc(requestId)}/picture`, id: "picture-link" },
      "Cascade picture of this request")),
    tierSection(coverage.tiers),
    gapSection(base, gaps.items, names, coverage.root_id),
    explorer,
    companySearch(base));
  await pathPage(base, explorer, null);
}

function summary(coverage, request, names) {
  const figure = (field, name, value) => h("div", { class: "figure", "data-field": field },
    h("dt", {}, name), h("dd", {}, value));
  return h("dl", { class: "figures", id: "summary" },
    figure("coverage", "Coverage", percent(coverage.coverage_ratio)),
    figure("gaps", "Gaps", integer(coverage.gaps)),
    figure("uncovered_paths", "Uncovered paths", integer(coverage.paths.uncovered)),
    figure("overdue", "Overdue", integer(coverage.counts.overdue || 0)),
    figure("issuer", "Issuer", names.get(coverage.root_id) || coverage.root_id),
    request ? figure("topic", "Topic", request.topic) : null);
}

function tierSection(tiers) {
  const widest = Math.max(1, ...tiers.map((t) => t.companies));
  const rowHeight = 22;
  const bars = s("svg", { class: "tier-bars", width: 640, height: tiers.length * rowHeight + 4,
                          role: "img", "aria-labelledby": "tiers-h" },
    tiers.map((tier, row) => {
      let x = 60;
      const y = row * rowHeight + 2;
      const parts = STATES.filter((st) => tier[st] > 0).map((st) => {
        const width = (tier[st] / widest) * 560;
        const rect = s("rect", { x, y, width: Math.max(width, 1), height: rowHeight - 4,
                                 class: `state-${st}` }, s("title", {}, `${label(st)}: ${tier[st]}`));
        x += width;
        return rect;
      });
      return s("g", {}, s("text", { x: 0, y: y + rowHeight - 8, class: "bar-label" },
        `tier ${tier.tier}`), parts);
    }));
  return h("section", { "aria-labelledby": "tiers-h" },
    h("h2", { id: "tiers-h" }, "Tiers by state"), legend(), bars,
    h("details", {}, h("summary", {}, "Tier table"), tierTable(tiers)));
}

export function legend() {
  return h("ul", { class: "legend" }, STATES.map((st) =>
    h("li", {}, h("span", { class: `swatch state-${st}`, "aria-hidden": "true" }), label(st))));
}

function tierTable(tiers) {
  return h("table", { id: "tiers" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Tier"),
      h("th", { scope: "col" }, "Companies"), STATES.map((st) => h("th", { scope: "col" }, label(st))))),
    h("tbody", {}, tiers.map((t) => h("tr", { "data-tier": t.tier },
      h("th", { scope: "row" }, String(t.tier)), h("td", { class: "num" }, integer(t.companies)),
      STATES.map((st) => h("td", { class: "num", "data-state": st }, integer(t[st])))))));
}

function gapSection(base, gaps, names, rootId) {
  const chainBox = h("div", { id: "gap-chain" });
  const name = (id) => [names.get(id) || id, names.has(id) ? h("small", {}, ` ${id}`) : null];
  const rows = gaps.map((gap, i) => h("tr", { "data-gap": `${gap.from_id}>${gap.to_id}` },
    h("td", { class: "num" }, String(i + 1)),
    h("td", { class: "num" }, String(gap.tier)),
    h("td", {}, name(gap.from_id)), h("td", {}, name(gap.to_id)),
    h("td", { class: "num", "data-field": "impact" }, integer(gap.impact)),
    h("td", {}, h("button", { type: "button", class: "show-chain",
      onclick: () => showGapChain(base, gap, names, rootId, chainBox) }, "Chain"))));
  return h("section", { id: "gaps", "aria-labelledby": "gaps-h" },
    h("h2", { id: "gaps-h" }, "Gaps by impact"),
    h("p", {}, "Export every gap: ",
      exportButton(base, "csv"), " ", exportButton(base, "xlsx")),
    h("table", { id: "gap-table" },
      h("thead", {}, h("tr", {}, ["#", "Tier", "Responsible company", "Not forwarded to",
        "Impact", "Chain"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows)),
    chainBox);
}

async function showGapChain(base, gap, names, rootId, box) {
  const standing = gap.from_id === rootId ? { path: [rootId] }
    : await get(`${base}/companies/${enc(gap.from_id)}`);
  const companies = [...standing.path, gap.to_id];
  box.replaceChildren(h("h3", {}, `Chain to ${names.get(gap.to_id) || gap.to_id}`),
    chain(companies, names, companies.length - 1, "not_cascaded"),
    h("a", { href: `/ui/requests/${base.split("/")[3]}/picture?focus=${enc(gap.to_id)}` },
      "Draw its neighbourhood in the cascade picture"));
  box.scrollIntoView({ block: "nearest" });
}

function exportButton(base, format) {
  return h("button", { type: "button", id: `export-${format}`, onclick: async (event) => {
    const button = event.currentTarget;
    try {
      const blob = await download(`${base}/gaps.${format}`);
      const link = h("a", { href: URL.createObjectURL(blob),
                            download: `${decodeURIComponent(base.split("/")[3])}-gaps.${format}` });
      link.click();
      button.dataset.done = "true";
    } catch (error) {
      button.after(problemBox(error));
    }
  } }, `Download ${format.toUpperCase()}`);
}

async function pathPage(base, section, cursor) {
  const page = await get(`${base}/uncovered-paths?limit=${PATHS_PAGE}` +
                         (cursor ? `&cursor=${enc(cursor)}` : ""));
  const names = await companyNames(page.items.flatMap((p) => p.companies));
  const drawn = h("div", { id: "path-chain" });
  const list = h("ol", { class: "paths" }, page.items.map((path, i) =>
    h("li", {}, h("button", { type: "button", class: "show-path", "data-index": i,
      onclick: () => drawn.replaceChildren(
        chain(path.companies, names, path.break_index, path.reason)) },
    `${path.companies.length - 1} links, breaks at ${names.get(path.companies[path.break_index])
      || path.companies[path.break_index]} (${label(path.reason)})`))));
  const more = page.next_cursor ? h("button", { type: "button", id: "more-paths",
    onclick: () => pathPage(base, section, page.next_cursor) }, "Next paths") : null;
  section.replaceChildren(section.firstChild, list, more, drawn);
  if (page.items.length) drawn.replaceChildren(
    chain(page.items[0].companies, names, page.items[0].break_index, page.items[0].reason));
}

function companySearch(base) {
  const input = h("input", { id: "company-id", name: "company", required: true });
  const result = h("div", { id: "standing" });
  const form = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    try {
      result.replaceChildren(await standingView(base, input.value.trim()));
    } catch (error) {
      result.replaceChildren(problemBox(error));
    }
  } }, h("label", { for: "company-id" }, "Company id"), input,
    h("button", { type: "submit" }, "Show standing"));
  return h("section", { id: "company", "aria-labelledby": "company-h" },
    h("h2", { id: "company-h" }, "A company's standing"), form, result);
}

async function standingView(base, companyId) {
  const standing = await get(`${base}/companies/${enc(companyId)}`);
  const names = await companyNames(standing.path);
  const requestId = decodeURIComponent(base.split("/")[3]);
  const answers = await getIfAllowed(
    `/v1/acknowledgements?request_id=${enc(requestId)}&company_id=${enc(companyId)}`);
  const fact = (field, name, value) => h("div", { class: "figure", "data-field": field },
    h("dt", {}, name), h("dd", {}, value));
  return h("div", {},
    h("dl", { class: "figures" },
      fact("state", "State", label(standing.state)), fact("tier", "Tier", String(standing.tier)),
      fact("covered", "Covered", standing.covered ? "yes" : "no"),
      fact("first_reached_at", "First reached", standing.first_reached_at || "never"),
      fact("suppliers", "Suppliers acknowledged",
           `${standing.acknowledged_suppliers} of ${standing.applicable_suppliers}`)),
    standing.path.length ? chain(standing.path, names) : null,
    answers && answers.length ? h("table", { class: "history" },
      h("caption", {}, "Answers"),
      h("thead", {}, h("tr", {}, ["At", "Status"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, answers.map((a) => h("tr", {}, h("td", {}, a.at), h("td", {}, a.status)))))
      : null);
}
