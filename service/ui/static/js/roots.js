// The root companies whose exposure to an incident a key asks about: the issuers of the
// requests it sees, the one with most requests first. A staff key lists the requests; a
// viewer key (which lists none) reads the root of each request in the gap counts.
import { eachLimited, enc, get, whoAmI } from "./api.js";

export async function issuerRoots() {
  const me = await whoAmI();
  let issuers;
  if (me.role === "viewer") {
    const counts = await get("/v1/gap-counts");
    issuers = await eachLimited(counts.requests, 4, async (c) =>
      (await get(`/v1/requests/${enc(c.request_id)}/coverage`)).root_id);
  } else {
    issuers = (await get("/v1/requests")).map((r) => r.issuer_id);
  }
  const tally = new Map();
  issuers.forEach((id) => tally.set(id, (tally.get(id) || 0) + 1));
  return [...tally].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([id]) => id);
}
