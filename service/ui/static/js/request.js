// One request: figures, the tier table as stacked bars, gaps by impact with exports, the
// uncovered-path explorer and a company's standing.
import { companyNames, enc, get, getIfAllowed } from "./api.js";
import { chain } from "./chain.js";
import { h, problemBox, render } from "./dom.js";
import { integer, label, percent } from "./format.js";
import { companyCell, exportButton, figure, figures, table, tierSection } from "./parts.js";
import { pathExplorer } from "./paths.js";

const GAPS_SHOWN = 20;

export async function show(requestId) {
  const base = `/v1/requests/${enc(requestId)}`;
  const [request, coverage] = await Promise.all([getIfAllowed(base), get(`${base}/coverage`)]);
  const gaps = await get(`${base}/gaps?limit=${GAPS_SHOWN}`);
  const names = await companyNames([coverage.root_id,
    ...gaps.items.flatMap((g) => [g.from_id, g.to_id])]);
  const explorer = pathExplorer(`${base}/uncovered-paths`);
  render(
    h("p", { class: "crumbs" }, h("a", { href: "/ui/" }, "Overview"), " › ", requestId),
    h("h1", {}, request ? request.title : requestId),
    summary(coverage, request, names),
    h("p", {}, h("a", { href: `/ui/requests/${enc(requestId)}/picture`, id: "picture-link" },
      "Cascade picture of this request")),
    tierSection(coverage.tiers),
    gapSection(base, gaps.items, names, coverage.root_id),
    explorer.section,
    companySearch(base));
  await explorer.load();
}

function summary(coverage, request, names) {
  return figures("summary",
    figure("coverage", "Coverage", percent(coverage.coverage_ratio)),
    figure("gaps", "Gaps", integer(coverage.gaps)),
    figure("uncovered_paths", "Uncovered paths", integer(coverage.paths.uncovered)),
    figure("overdue", "Overdue", integer(coverage.counts.overdue || 0)),
    figure("issuer", "Issuer", names.get(coverage.root_id) || coverage.root_id),
    request ? figure("topic", "Topic", request.topic) : null);
}

function gapSection(base, gaps, names, rootId) {
  const chainBox = h("div", { id: "gap-chain" });
  const name = (id) => companyCell(id, names);
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
      ...["csv", "xlsx"].map((format) => [exportButton(`${base}/gaps.${format}`,
        `${decodeURIComponent(base.split("/")[3])}-gaps.${format}`, format), " "])),
    table({ id: "gap-table" }, null,
      ["#", "Tier", "Responsible company", "Not forwarded to", "Impact", "Chain"], rows),
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
  return h("div", {},
    figures(null,
      figure("state", "State", label(standing.state)),
      figure("tier", "Tier", String(standing.tier)),
      figure("covered", "Covered", standing.covered ? "yes" : "no"),
      figure("first_reached_at", "First reached", standing.first_reached_at || "never"),
      figure("suppliers", "Suppliers acknowledged",
             `${standing.acknowledged_suppliers} of ${standing.applicable_suppliers}`)),
    standing.path.length ? chain(standing.path, names) : null,
    h("p", {}, h("a", { id: "cascade-view-link",
      href: `/ui/requests/${enc(requestId)}/companies/${enc(companyId)}/cascade` },
    `${names.get(companyId) || companyId}'s own cascade view of this request`)),
    answers && answers.length ? table({ class: "history" }, "Answers", ["At", "Status"],
      answers.map((a) => h("tr", {}, h("td", {}, a.at), h("td", {}, a.status)))) : null);
}
