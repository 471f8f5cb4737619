// The exposed companies of an incident for a root, a page at a time: tier, chain from the
// root, BCP state and why the incident affects each.
import { companyNames, enc, get } from "./api.js";
import { h } from "./dom.js";
import { companyCell, num, table } from "./parts.js";

const PAGE = 25;

export function exposedList(url) {
  const section = h("section", { id: "exposed", "aria-labelledby": "exposed-h" },
    h("h2", { id: "exposed-h" }, "Exposed companies"));
  return { section, load: () => showPage(url, section, [null]) };
}

// `cursors`: the cursor of every page up to this one (its last), so Previous goes back.
async function showPage(url, section, cursors) {
  const cursor = cursors[cursors.length - 1];
  const page = await get(`${url}&limit=${PAGE}` + (cursor ? `&cursor=${enc(cursor)}` : ""));
  const names = await companyNames(page.items.flatMap((c) => c.chain));
  page.items.forEach((c) => names.set(c.company_id, c.name));
  const nav = h("p", { class: "pager" },
    cursors.length > 1 ? h("button", { type: "button", id: "exposed-previous",
      onclick: () => showPage(url, section, cursors.slice(0, -1)) }, "Previous") : null, " ",
    page.next_cursor ? h("button", { type: "button", id: "exposed-next",
      onclick: () => showPage(url, section, [...cursors, page.next_cursor]) }, "Next") : null);
  section.replaceChildren(section.firstChild,
    table({ id: "exposed-table" }, `Page ${cursors.length}`,
      ["Company", "Tier", "Chain from the root", "BCP state", "Matched by"],
      page.items.map((c) => h("tr", { "data-company": c.company_id },
        h("th", { scope: "row" }, companyCell(c.company_id, names)), num(c.tier, "tier"),
        h("td", { "data-field": "chain" }, c.chain.map((id) => names.get(id) || id).join(" → ")),
        h("td", { "data-field": "bcp_state" }, c.bcp_state ? c.bcp_state.replace("_", " ") : "—"),
        h("td", { "data-field": "matched" },
          c.matched.site_id ? `${c.matched.by} (site ${c.matched.site_id})` : c.matched.by)))),
    nav);
}
