// A company's own cascade view: the request's coverage with the company in the issuer's
// place. An integration key lands here: the requests sent to its company, each with its
// own coverage, and the chosen one's tiers, gaps, uncovered paths and exports. Companies
// beyond its direct suppliers come as pseudonyms (anon-…): they are shown as given and
// never looked up. A staff key opens one company's view from the request page.
import { companyNames, enc, get, whoAmI } from "./api.js";
import { h, render } from "./dom.js";
import { integer, percent } from "./format.js";
import { companyCell, exportButton, figure, figures, num, table, tierSection } from "./parts.js";
import { pathExplorer } from "./paths.js";

const GAPS_SHOWN = 20;

export async function show(requestId = null, companyId = null) {
  const me = await whoAmI();
  const own = me.role === "integration";
  const company = own ? me.company_id : companyId;
  const requests = own ? await get("/v1/requests") : [{ id: requestId, title: requestId }];
  const chosen = requestId || (requests.length ? requests[0].id : null);
  const url = (id) => `/v1/requests/${enc(id)}/companies/${enc(company)}/cascade`;
  const views = own ? await Promise.all(requests.map((r) => get(url(r.id)))) : [];
  const names = await companyNames([company]);
  const header = [
    own ? null : h("p", { class: "crumbs" }, h("a", { href: "/ui/" }, "Overview"), " › ",
      h("a", { href: `/ui/requests/${enc(requestId)}` }, requestId), " › cascade view"),
    h("h1", {}, `Cascade view of ${names.get(company) || company}`),
    h("p", { class: "muted" }, "Coverage as if this company had issued the request: only ",
      "the forwards on its own chains count, tiers are counted from it.")];
  if (!chosen) {
    render(...header, h("p", { class: "muted", id: "no-requests" },
      "No request has been sent to this company yet."));
    return;
  }
  const listed = requests.findIndex((r) => r.id === chosen);
  const view = listed >= 0 && views.length ? views[listed] : await get(url(chosen));
  const explorer = pathExplorer(`${url(chosen)}/uncovered-paths`, "Uncovered paths from here");
  render(...header,
    own ? requestList(requests, views, chosen) : null,
    ...await details(url(chosen), view, chosen, company, explorer));
  await explorer.load();
}

function requestList(requests, views, chosen) {
  return table({ id: "view-requests", class: "requests" }, "Requests sent to this company",
    ["Request", "Coverage", "Gaps", "Uncovered paths", "Overdue"],
    requests.map((r, i) => h("tr", { "data-request": r.id },
      h("th", { scope: "row" }, r.id === chosen ? h("strong", { "aria-current": "page" }, r.title)
        : h("a", { href: `/ui/requests/${enc(r.id)}` }, r.title)),
      h("td", { class: "num", "data-field": "coverage" }, percent(views[i].coverage_ratio)),
      num(views[i].gaps, "gaps"), num(views[i].paths.uncovered, "uncovered_paths"),
      num(views[i].counts.overdue || 0, "overdue"))));
}

async function details(url, view, requestId, company, explorer) {
  const gaps = await get(`${url}/gaps?limit=${GAPS_SHOWN}`);
  const names = await companyNames(gaps.items.flatMap((g) => [g.from_id, g.to_id]));
  const file = (format) => `${requestId}-${company}-cascade-gaps.${format}`;
  return [
    h("h2", { id: "chosen-h" }, `Request ${requestId}`),
    figures("view-summary",
      figure("coverage", "Coverage", percent(view.coverage_ratio)),
      figure("gaps", "Gaps", integer(view.gaps)),
      figure("uncovered_paths", "Uncovered paths", integer(view.paths.uncovered)),
      figure("overdue", "Overdue", integer(view.counts.overdue || 0))),
    tierSection(view.tiers, "Tiers from this company, by state"),
    h("section", { id: "gaps", "aria-labelledby": "gaps-h" },
      h("h2", { id: "gaps-h" }, "Gaps by impact"),
      h("p", {}, "Export the gaps this company and its direct suppliers are to close: ",
        ...["csv", "xlsx"].map((f) => [exportButton(`${url}/gaps.${f}`, file(f), f), " "])),
      table({ id: "gap-table" }, null,
        ["#", "Tier", "Responsible company", "Not forwarded to", "Impact"],
        gaps.items.map((gap, i) => h("tr", { "data-gap": `${gap.from_id}>${gap.to_id}` },
          h("td", { class: "num" }, String(i + 1)), h("td", { class: "num" }, String(gap.tier)),
          h("td", {}, companyCell(gap.from_id, names)), h("td", {}, companyCell(gap.to_id, names)),
          num(gap.impact, "impact"))))),
    explorer.section];
}
