// The uncovered-path explorer: a page of paths, each drawn as a chain with its break
// point marked, and a button for the next page. `url` is an uncovered-paths resource (a
// request's, or a company's cascade view's).
import { companyNames, enc, get } from "./api.js";
import { chain } from "./chain.js";
import { h } from "./dom.js";
import { label } from "./format.js";

const PATHS_PAGE = 10;

export function pathExplorer(url, heading = "Uncovered paths") {
  const section = h("section", { id: "paths", "aria-labelledby": "paths-h" },
    h("h2", { id: "paths-h" }, heading));
  return { section, load: () => pathPage(url, section, null) };
}

async function pathPage(url, section, cursor) {
  const page = await get(`${url}?limit=${PATHS_PAGE}` + (cursor ? `&cursor=${enc(cursor)}` : ""));
  const names = await companyNames(page.items.flatMap((p) => p.companies));
  const drawn = h("div", { id: "path-chain" });
  const draw = (path) => drawn.replaceChildren(
    chain(path.companies, names, path.break_index, path.reason));
  const list = h("ol", { class: "paths" }, page.items.map((path, i) => {
    const at = path.companies[path.break_index];
    return h("li", {}, h("button", { type: "button", class: "show-path", "data-index": i,
      onclick: () => draw(path) },
    `${path.companies.length - 1} links, breaks at ${names.get(at) || at} (${label(path.reason)})`));
  }));
  const more = page.next_cursor ? h("button", { type: "button", id: "more-paths",
    onclick: () => pathPage(url, section, page.next_cursor) }, "Next paths") : null;
  const none = page.items.length ? null : h("p", { class: "muted" }, "No uncovered path.");
  section.replaceChildren(...[section.firstChild, none, list, more, drawn].filter(Boolean));
  if (page.items.length) draw(page.items[0]);
}
