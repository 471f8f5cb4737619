// The supply network of a request as a tier map: companies coloured by state, forwards
// drawn solid, links never forwarded dashed. From FULL_LIMIT companies on (or when a
// company is chosen with ?focus=), only the neighbourhood of one company is drawn (its
// chain to the issuer and its suppliers a few tiers up); the rest is counted by tier.
import { eachLimited, enc, get, getIfAllowed } from "./api.js";
import { h, render, s } from "./dom.js";
import { integer, label } from "./format.js";
import { legend } from "./parts.js";

const FULL_LIMIT = 1000;
const UP_TIERS = 2;
const NEIGHBOURS_MAX = 80;
const COLUMN = 150;
const ROW = 16;

export async function show(requestId) {
  const base = `/v1/requests/${enc(requestId)}`;
  const coverage = await get(`${base}/coverage`);
  const total = coverage.tiers.reduce((sum, t) => sum + t.companies, 0);
  const focus = new URLSearchParams(window.location.search).get("focus");
  const header = [
    h("p", { class: "crumbs" }, h("a", { href: "/ui/" }, "Overview"), " › ",
      h("a", { href: `/ui/requests/${enc(requestId)}` }, requestId), " › picture"),
    h("h1", {}, "Cascade picture"), legend(), focusForm(focus)];
  const whole = !focus && total < FULL_LIMIT;
  const tiers = whole ? await wholeNetwork(coverage) : await neighbourhood(base, focus);
  if (tiers === null) {
    render(...header, h("p", { class: "muted", id: "picture-note" }, whole
      ? "This key may not read the supply links: the picture shows tier totals only."
      : "Choose a company (or a gap's supplier) to draw its neighbourhood."),
      tierTotals(coverage.tiers, new Map()));
    return;
  }
  const { nodes, links } = tiers;
  await addStates(base, nodes);
  const forwards = await forwardedLinks(requestId, nodes, whole);
  render(...header,
    h("p", { class: "muted", id: "picture-note" }, whole
      ? `All ${integer(total)} companies of the request.`
      : `The neighbourhood of ${focus}; the other companies are counted by tier.`),
    tierMap(nodes, links, forwards, requestId),
    whole ? null : tierTotals(coverage.tiers, countByTier(nodes)));
}

function focusForm(focus) {
  return h("form", { class: "inline", method: "get" },
    h("label", { for: "focus" }, "Company id"),
    h("input", { id: "focus", name: "focus", value: focus || "" }),
    h("button", { type: "submit" }, "Draw its neighbourhood"));
}

// Every company of the request (ids and tiers) and the links among them.
async function wholeNetwork(coverage) {
  const upstream = await getIfAllowed(`/v1/companies/${enc(coverage.root_id)}/upstream?depth=50`);
  if (upstream === null) return null;
  const nodes = new Map([[coverage.root_id, { id: coverage.root_id, tier: 0 }]]);
  upstream.forEach((c) => nodes.set(c.id, { id: c.id, tier: c.tier }));
  const links = [];
  let cursor = null;
  do {
    const page = await get(`/v1/links?limit=5000${cursor ? `&cursor=${enc(cursor)}` : ""}`);
    links.push(...page.items.filter((l) => nodes.has(l.buyer_id) && nodes.has(l.supplier_id)));
    cursor = page.next_cursor;
  } while (cursor);
  return { nodes, links };
}

// The focus company's chain to the issuer and its suppliers UP_TIERS tiers up.
async function neighbourhood(base, focus) {
  if (!focus) return null;
  const standing = await get(`${base}/companies/${enc(focus)}`);
  const nodes = new Map(standing.path.map((id, tier) => [id, { id, tier }]));
  nodes.set(focus, { id: focus, tier: standing.tier, focus: true });
  const upstream = await getIfAllowed(`/v1/companies/${enc(focus)}/upstream?depth=${UP_TIERS}`)
    || [];
  upstream.slice(0, NEIGHBOURS_MAX).forEach((c) => {
    if (!nodes.has(c.id)) nodes.set(c.id, { id: c.id, tier: standing.tier + c.tier });
  });
  const links = [];
  await eachLimited([...nodes.keys()], 6, async (buyer) => {
    const page = await getIfAllowed(`/v1/links?buyer_id=${enc(buyer)}&limit=5000`);
    if (page) links.push(...page.items.filter((l) => nodes.has(l.supplier_id)));
  });
  return { nodes, links };
}

async function addStates(base, nodes) {
  await eachLimited([...nodes.values()], 6, async (node) => {
    const standing = await getIfAllowed(`${base}/companies/${enc(node.id)}`);
    node.state = standing ? standing.state : "not_applicable";
    if (standing) node.tier = standing.tier;
  });
}

async function forwardedLinks(requestId, nodes, whole) {
  const forwarded = new Set();
  const add = (events) => (events || []).forEach((e) => forwarded.add(`${e.from_id}>${e.to_id}`));
  if (whole) {
    add(await getIfAllowed(`/v1/cascades?request_id=${enc(requestId)}&limit=5000`));
  } else {
    await eachLimited([...nodes.keys()], 6, async (id) => add(await getIfAllowed(
      `/v1/cascades?request_id=${enc(requestId)}&from_id=${enc(id)}&limit=5000`)));
  }
  return forwarded;
}

function tierMap(nodes, links, forwards, requestId) {
  const columns = new Map();
  [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)).forEach((node) => {
    if (!columns.has(node.tier)) columns.set(node.tier, []);
    node.x = 20 + node.tier * COLUMN;
    node.y = 30 + columns.get(node.tier).length * ROW;
    columns.get(node.tier).push(node);
  });
  const deepest = Math.max(...columns.keys());
  const tallest = Math.max(...[...columns.values()].map((c) => c.length));
  const edges = links.map((l) => {
    const [a, b] = [nodes.get(l.buyer_id), nodes.get(l.supplier_id)];
    const sent = forwards.has(`${l.buyer_id}>${l.supplier_id}`);
    return s("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y,
                       class: sent ? "edge forwarded" : "edge unforwarded" });
  });
  const dots = [...nodes.values()].map((n) => s("a", {
    href: `/ui/requests/${enc(requestId)}/picture?focus=${enc(n.id)}`, "data-company": n.id },
    s("circle", { cx: n.x, cy: n.y, r: n.focus ? 7 : 5, class: `node state-${n.state}` },
      s("title", {}, `${n.id}: ${label(n.state)}, tier ${n.tier}`))));
  const headings = [...columns.keys()].map((tier) =>
    s("text", { x: 20 + tier * COLUMN - 10, y: 14, class: "bar-label" }, `tier ${tier}`));
  return h("figure", { class: "tier-map" },
    s("svg", { id: "tier-map", width: (deepest + 1) * COLUMN, height: tallest * ROW + 40,
               role: "group", "aria-label": `tier map of ${nodes.size} companies` },
      headings, s("g", {}, edges), s("g", {}, dots)),
    h("figcaption", {}, "Solid lines: forwarded. Dashed: never forwarded. ",
      "Select a company to draw its neighbourhood."));
}

function countByTier(nodes) {
  const counts = new Map();
  nodes.forEach((n) => counts.set(n.tier, (counts.get(n.tier) || 0) + 1));
  return counts;
}

function tierTotals(tiers, drawn) {
  return h("table", { id: "tier-totals" },
    h("caption", {}, "Companies by tier"),
    h("thead", {}, h("tr", {}, ["Tier", "Companies", "Drawn", "Not drawn"]
      .map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, tiers.map((t) => h("tr", {},
      h("th", { scope: "row" }, String(t.tier)), h("td", { class: "num" }, integer(t.companies)),
      h("td", { class: "num" }, integer(drawn.get(t.tier) || 0)),
      h("td", { class: "num" }, integer(t.companies - (drawn.get(t.tier) || 0)))))));
}
