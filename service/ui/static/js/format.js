// Figures as people read them.
import { s } from "./dom.js";

// A ratio as a percentage with one decimal, rounded half up: 0.07836 -> "7.8%".
// toFixed(6) first removes the binary noise (0.0775 * 1000 = 77.49999999999999).
export function percent(ratio) {
  const tenths = Math.floor(Number((ratio * 1000).toFixed(6)) + 0.5);
  return `${(tenths / 10).toFixed(1)}%`;
}

export const STATES = ["issuer", "acknowledged", "pending", "overdue", "declined", "expired",
                       "unreached", "not_applicable"];

export const label = (state) => state.replace("_", " ");

// An exact count (a Number, or a BigInt when it outgrew a double) with thousands separators.
export const integer = (n) => (typeof n === "bigint" ? n : Number(n)).toLocaleString("en");

// part / whole as a percentage with one decimal, rounded half up, exact for any size of
// counts (path counts): 1n / 3n -> "33.3%".
export function share(part, whole) {
  const [p, w] = [BigInt(part), BigInt(whole)];
  if (w === 0n) return "—";
  const tenths = (p * 2000n + w) / (2n * w);
  return `${tenths / 10n}.${tenths % 10n}%`;
}

// Hours with one decimal (a time to report), or a dash when nobody answered yet.
export const hours = (h) => (h === null || h === undefined ? "—" : `${h.toFixed(1)} h`);

// A trend line of coverage ratios (0..1) as a small SVG.
export function sparkline(ratios, { width = 120, height = 28 } = {}) {
  const last = Math.max(ratios.length - 1, 1);
  const points = ratios.map((r, i) =>
    `${((i / last) * (width - 2) + 1).toFixed(1)},${(height - 1 - r * (height - 2)).toFixed(1)}`);
  return s("svg", { class: "sparkline", width, height, viewBox: `0 0 ${width} ${height}`,
                    role: "img", "aria-label": `coverage trend, ${ratios.length} points` },
    s("polyline", { points: points.join(" ") }));
}
