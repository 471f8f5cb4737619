// The overview's open incidents, each with its exposure for the default root company
// (the issuer of most of the key's requests); drawn after the request figures.
import { companyNames, eachLimited, enc, get } from "./api.js";
import { h } from "./dom.js";
import { share } from "./format.js";
import { num, table } from "./parts.js";
import { issuerRoots } from "./roots.js";

export function incidentsSection() {
  const section = h("section", { id: "incidents", "aria-labelledby": "incidents-h" },
    h("h2", { id: "incidents-h" }, "Open incidents"), h("p", { class: "muted" }, "Loading…"));
  return { section, load: () => fill(section) };
}

async function fill(section) {
  const open = (await get("/v1/incidents?limit=100")).items.filter((i) => !i.closed_at);
  const [root] = open.length ? await issuerRoots() : [];
  const exposures = await eachLimited(open, 3, (incident) => (root
    ? get(`/v1/incidents/${enc(incident.id)}/exposure?root=${enc(root)}`) : null));
  const names = await companyNames(root ? [root] : []);
  section.replaceChildren(section.firstChild, open.length ? table({ id: "incident-table" },
    root ? `Exposure of ${names.get(root) || root}` : null,
    ["Incident", "Kind", "Occurred", "Affected", "Exposed", "Paths exposed"],
    open.map((incident, i) => row(incident, exposures[i])))
    : h("p", { class: "muted" }, "No open incident."));
}

function row(incident, exposure) {
  return h("tr", { "data-incident": incident.id },
    h("th", { scope: "row" }, h("a", { href: `/ui/incidents/${enc(incident.id)}` }, incident.title)),
    h("td", {}, incident.kind), h("td", {}, incident.occurred_at),
    num(incident.affected, "affected"),
    exposure ? num(exposure.exposed, "exposed") : h("td", {}, "—"),
    h("td", { class: "num", "data-field": "paths" },
      exposure ? share(exposure.paths.exposed, exposure.paths.total) : "—"));
}
