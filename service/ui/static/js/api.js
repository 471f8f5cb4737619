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
  return { body: await response.json(), etag: response.headers.get("ETag") };
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

// Company names when the key may read them: a viewer key gets ids only.
export async function companyNames(ids) {
  const names = new Map();
  const unique = [...new Set(ids)];
  const first = unique.length ? await getIfAllowed(`/v1/companies/${enc(unique[0])}`) : null;
  if (first === null) return names;
  names.set(first.id, first.name);
  await eachLimited(unique.slice(1), 6, async (id) => {
    const company = await getIfAllowed(`/v1/companies/${enc(id)}`);
    if (company) names.set(company.id, company.name);
  });
  return names;
}

export const enc = encodeURIComponent;
