// A path drawn as a chain from its first company (the issuer, or the company whose
// cascade view it is), its break point marked.
import { h } from "./dom.js";
import { label } from "./format.js";

// `breakIndex`: the first company the chain does not reach covered; `reason`:
// "not_cascaded" (the forward into it is missing) or that company's state.
export function chain(companies, names, breakIndex = -1, reason = "") {
  const items = companies.map((id, i) => {
    const broken = i === breakIndex;
    const arrow = i === 0 ? null : h("span", {
      class: broken && reason === "not_cascaded" ? "arrow missing" : "arrow",
      "aria-hidden": "true" }, broken && reason === "not_cascaded" ? "╳" : "→");
    return h("li", { class: broken ? "link break" : "link", "data-company": id }, arrow,
      h("span", { class: "company" }, names.get(id) || id,
        names.has(id) ? h("small", {}, id) : null),
      broken ? h("span", { class: "break-note" },
        reason === "not_cascaded" ? "never forwarded to this company" : `breaks here: ${label(reason)}`)
        : null);
  });
  return h("ol", { class: "chain", "aria-label": `chain from ${names.get(companies[0]) || companies[0]}` }, items);
}
