// The answers to an incident's surveys (prompt reports): how many answered with which
// impact, how long they took to report, and the survey's coverage.
import { enc, getIfAllowed } from "./api.js";
import { h } from "./dom.js";
import { hours, percent } from "./format.js";
import { figure, figures, num, table } from "./parts.js";

export async function surveySection(incident) {
  const section = h("section", { id: "surveys", "aria-labelledby": "surveys-h" },
    h("h2", { id: "surveys-h" }, "Survey answers"));
  if (!incident.surveys.length) {
    section.append(h("p", { class: "muted" }, "No survey has been issued for this incident."));
    return section;
  }
  for (const id of incident.surveys) {
    const coverage = await getIfAllowed(`/v1/requests/${enc(id)}/coverage`);
    section.append(coverage ? survey(id, coverage)
      : h("p", { class: "muted" }, `Survey ${id}: this key may not read its answers.`));
  }
  return section;
}

function survey(id, coverage) {
  const impact = coverage.impact || {};
  const time = coverage.time_to_report_hours || { median: null, p90: null };
  return h("div", { class: "survey", "data-survey": id },
    h("h3", {}, h("a", { href: `/ui/requests/${enc(id)}` }, `Survey ${id}`)),
    figures(null,
      figure("coverage", "Coverage", percent(coverage.coverage_ratio)),
      figure("median", "Time to report, median", hours(time.median)),
      figure("p90", "Time to report, 90th percentile", hours(time.p90))),
    table({ class: "impact" }, "Answers by impact", ["Impact", "Companies"],
      Object.entries(impact).map(([value, n]) => h("tr", { "data-impact": value },
        h("th", { scope: "row" }, value), num(n, "companies")))));
}
