// Small DOM builders: every page builds nodes (never HTML strings from data), so a company
// name can never become markup.
const SVG = "http://www.w3.org/2000/svg";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAll(node, attrs);
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  setAll(node, attrs);
  node.append(...children.flat().filter(Boolean));
  return node;
}

function setAll(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
}

export function render(...children) {
  const page = document.getElementById("page");
  page.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
  return page;
}

export function problemBox(error) {
  return h("div", { class: "problem", role: "alert" },
    h("strong", { class: "problem-title" }, error.title || "Error"), " ",
    h("span", { class: "problem-detail" }, error.detail || String(error.message || error)));
}
