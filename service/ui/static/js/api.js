// The public REST API with the user's key. The key lives in sessionStorage only (never a
// cookie, never a URL sent to the server); a #key=... fragment is taken once and removed.
const KEY = "cascade.key";

export class Problem extends Error {
  constructor(status, title, detail) {
    super(`${title}: ${detail}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

export function takeKeyFromFragment() {
  const match = /^#key=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

export const apiKey = () => sessionStorage.getItem(KEY);
export const saveKey = (key) => sessionStorage.setItem(KEY, key);
export const forgetKey = () => sessionStorage.removeItem(KEY);

async function problemOf(response) {
  let body = {};
  try { body = await response.json(); } catch (_) { /* not problem+json */ }
  return new Problem(response.status, body.title || response.statusText || "Error",
                     body.detail || `HTTP ${response.status}`);
}

export async function call(path, { etag = null } = {}) {
  const headers = { Authorization: `Bearer ${apiKey()}`, Accept: "application/json" };
  if (etag) headers["If-None-Match"] = etag;
  const response = await fetch(path, { headers, cache: "no-store" });
  if (response.status === 304) return { notModified: true, etag };
  if (!response.ok) throw await problemOf(response);
  return { body: JSON.parse(await response.text(), exact), etag: response.headers.get("ETag") };
}

// Path counts are exact integers that outgrow a double: such a number stays exact as a
// BigInt (read from its source text), every other number is an ordinary Number.
function exact(key, value, context) {
  if (typeof value === "number" && !Number.isSafeInteger(value) && context
      && /^-?\d+$/.test(context.source)) return BigInt(context.source);
  return value;
}

export async function get(path) {
  return (await call(path)).body;
}

// The answer, or null when the key may not read it (403/404): the page then shows less.
export async function getIfAllowed(path) {
  try {
    return await get(path);
  } catch (error) {
    if (error instanceof Problem && (error.status === 403 || error.status === 404)) return null;
    throw error;
  }
}

export async function download(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${apiKey()}` } });
  if (!response.ok) throw await problemOf(response);
  return response.blob();
}

// Runs `task` over `items` with at most `width` at a time (the API has a rate limit).
export async function eachLimited(items, width, task) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

// Who the key is: its role and, for an integration key, its company.
let me = null;
export async function whoAmI() {
  me = me || await get("/v1/keys/me");
  return me;
}

// Company names in as few calls as the URL length allows (GET /v1/companies?ids=...), when
// the key may read them: a viewer key gets ids only, a pseudonym (anon-…) is never asked.
const NAMES_URL_MAX = 6000;
const NAMES_PER_CALL = 200;
const PSEUDONYM = /^anon-[0-9a-f]{16}$/;

export async function companyNames(ids) {
  const names = new Map();
  if ((await whoAmI()).role === "viewer") return names;
  for (const chunk of nameChunks([...new Set(ids)].filter((id) => id && !PSEUDONYM.test(id)))) {
    const query = chunk.map((id) => `ids=${enc(id)}`).join("&");
    const page = await getIfAllowed(`/v1/companies?${query}&limit=${chunk.length}`);
    if (page === null) return names;
    page.items.forEach((company) => names.set(company.id, company.name));
  }
  return names;
}

function nameChunks(ids) {
  const chunks = [];
  let chunk = [];
  let length = 0;
  for (const id of ids) {
    const part = enc(id).length + 5;
    if (chunk.length && (chunk.length === NAMES_PER_CALL || length + part > NAMES_URL_MAX)) {
      chunks.push(chunk);
      [chunk, length] = [[], 0];
    }
    chunk.push(id);
    length += part;
  }
  return chunk.length ? [...chunks, chunk] : chunks;
}

export const enc = encodeURIComponent;
