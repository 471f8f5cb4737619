// Pieces several pages show: figure boxes, the state legend, the tier table as stacked
// bars, plain tables and an export button.
import { download } from "./api.js";
import { h, problemBox, s } from "./dom.js";
import { integer, label, STATES } from "./format.js";

// One figure of a summary: <div data-field=...><dt>name</dt><dd>value</dd></div>.
export const figure = (field, name, value) => h("div", { class: "figure", "data-field": field },
  h("dt", {}, name), h("dd", {}, value));

export const figures = (id, ...items) => h("dl", { class: "figures", id }, items);

// A table with a caption, column headings and rows (each row an array of cells or a <tr>).
export function table(attrs, caption, headings, rows) {
  return h("table", attrs,
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, headings.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows));
}

export const num = (value, field = null) =>
  h("td", { class: "num", "data-field": field }, integer(value));

// A company as a page shows it: its name with its id beside it, or the id alone.
export const companyCell = (id, names) => [names.get(id) || id,
  names.has(id) ? h("small", {}, ` ${id}`) : null];

export function legend() {
  return h("ul", { class: "legend" }, STATES.map((st) =>
    h("li", {}, h("span", { class: `swatch state-${st}`, "aria-hidden": "true" }), label(st))));
}

export function tierSection(tiers, heading = "Tiers by state") {
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
    h("h2", { id: "tiers-h" }, heading), legend(), bars,
    h("details", {}, h("summary", {}, "Tier table"), tierTable(tiers)));
}

function tierTable(tiers) {
  return table({ id: "tiers" }, null, ["Tier", "Companies", ...STATES.map(label)],
    tiers.map((t) => h("tr", { "data-tier": t.tier },
      h("th", { scope: "row" }, String(t.tier)), num(t.companies),
      STATES.map((st) => h("td", { class: "num", "data-state": st }, integer(t[st]))))));
}

// Downloads `url` (with the key) as `filename`; a refusal is shown beside the button.
export function exportButton(url, filename, format) {
  return h("button", { type: "button", id: `export-${format}`, onclick: async (event) => {
    const button = event.currentTarget;
    try {
      const link = h("a", { href: URL.createObjectURL(await download(url)), download: filename });
      link.click();
      button.dataset.done = "true";
    } catch (error) {
      button.after(problemBox(error));
    }
  } }, `Download ${format.toUpperCase()}`);
}
