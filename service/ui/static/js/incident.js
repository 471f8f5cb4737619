// One incident: what happened where, its exposure for a root company (by tier and by
// tier-1 supplier, the exact share of the root's paths), the exposed companies, and the
// answers of its survey.
import { companyNames, enc, get } from "./api.js";
import { h, render } from "./dom.js";
import { integer, share } from "./format.js";
import { exposedList } from "./exposed.js";
import { companyCell, figure, figures, num, table } from "./parts.js";
import { issuerRoots } from "./roots.js";
import { surveySection } from "./survey.js";

export async function show(incidentId) {
  const base = `/v1/incidents/${enc(incidentId)}`;
  const [incident, roots] = await Promise.all([get(base), issuerRoots()]);
  const asked = new URLSearchParams(window.location.search).get("root");
  const root = asked || roots[0];
  const header = [
    h("p", { class: "crumbs" }, h("a", { href: "/ui/" }, "Overview"), " › incident ", incidentId),
    h("h1", {}, incident.title), facts(incident)];
  const surveys = await surveySection(incident);
  if (!root) {
    render(...header, h("p", { class: "muted" }, "This key sees no request, so no root ",
      "company to measure the exposure for."), surveys);
    return;
  }
  const query = `root=${enc(root)}`;
  const exposure = await get(`${base}/exposure?${query}`);
  const names = await companyNames([...new Set([...roots, root,
    ...exposure.tier1.map((t) => t.company_id)])]);
  const exposed = exposedList(`${base}/exposure/companies?${query}`);
  render(...header, rootForm(roots, root, names), exposureSection(exposure, names),
    surveys, exposed.section);
  await exposed.load();
}

function facts(incident) {
  return figures("incident",
    figure("kind", "Kind", incident.kind),
    figure("occurred_at", "Occurred", incident.occurred_at),
    figure("area", "Area", areaText(incident.area)),
    figure("affected", "Companies affected", integer(incident.affected)),
    figure("status", "Status", incident.closed_at ? `closed ${incident.closed_at}` : "open"));
}

function areaText(area) {
  const parts = [];
  if (area.company_ids) parts.push(`${integer(area.company_ids.length)} named companies`);
  if (area.countries) parts.push(`countries ${area.countries.join(", ")}`);
  if (area.regions) parts.push(`regions ${area.regions.join(", ")}`);
  if (area.circle) parts.push(`within ${area.circle.radius_km} km of ` +
    `${area.circle.lat}, ${area.circle.lon}`);
  return parts.join("; ");
}

// The root is asked in the URL (?root=): a choice among the issuers the key sees.
function rootForm(roots, root, names) {
  const choices = roots.includes(root) ? roots : [root, ...roots];
  if (choices.length < 2) return h("p", { id: "root" }, "Exposure of ",
    h("strong", {}, names.get(root) || root), " (the issuer of the requests this key sees).");
  return h("form", { class: "inline", method: "get", id: "root-form" },
    h("label", { for: "root" }, "Exposure of"),
    h("select", { id: "root", name: "root" }, choices.map((id) => h("option",
      { value: id, selected: id === root }, names.get(id) ? `${names.get(id)} (${id})` : id))),
    h("button", { type: "submit" }, "Show"));
}

function exposureSection(exposure, names) {
  return h("section", { id: "exposure", "aria-labelledby": "exposure-h" },
    h("h2", { id: "exposure-h" }, "Exposure"),
    figures("exposure-summary",
      figure("exposed", "Companies exposed", integer(exposure.exposed)),
      figure("paths", "Paths through an exposed company",
        `${integer(exposure.paths.exposed)} of ${integer(exposure.paths.total)}`),
      figure("path_share", "Share of paths", share(exposure.paths.exposed, exposure.paths.total)),
      figure("bcp", "BCP request", exposure.bcp.request_id
        ? h("a", { href: `/ui/requests/${enc(exposure.bcp.request_id)}` }, exposure.bcp.request_id)
        : "none")),
    table({ id: "exposure-tiers" }, "By tier", ["Tier", "Exposed"],
      exposure.tiers.map((t) => h("tr", { "data-tier": t.tier },
        h("th", { scope: "row" }, String(t.tier)), num(t.exposed, "exposed")))),
    table({ id: "exposure-tier1" }, "By tier-1 supplier",
      ["Tier-1 supplier", "Exposed upstream", "Nearest exposed tier"],
      exposure.tier1.map((t) => h("tr", { "data-company": t.company_id },
        h("th", { scope: "row" }, companyCell(t.company_id, names)),
        num(t.exposed_upstream, "exposed_upstream"), num(t.min_tier, "min_tier")))),
    table({ id: "exposure-bcp" }, "BCP standing of the exposed", ["State", "Companies"],
      Object.entries(exposure.bcp.states).map(([state, n]) => h("tr", { "data-state": state },
        h("th", { scope: "row" }, state.replace("_", " ")), num(n, "companies")))));
}
