// The text of a report: Markdown (report.md), a self-contained HTML page with the same
// content (report.html), and the tables as CSV (one file per table) for further use.
// Figures are referenced as STEM.png next to the text. Pure functions; thread-safe.
#pragma once

#include <string>

#include "core/report/report.h"

namespace driftscope {

std::string reportMarkdown(const Report& report, const std::string& generatedBy);
std::string reportHtml(const Report& report, const std::string& generatedBy);
// Table `t` as CSV (header line + rows; cells quoted when they hold a comma or quote).
std::string reportTableCsv(const ReportTable& t);

// Writes report.md, report.html, runs.csv, headline.csv (and independent.csv when there
// are independent pairs) into `dir`, atomically each, after removing the files of an
// earlier report there that this one does not write (independent.csv, figures left out).
Status writeReportText(const std::string& dir, const Report& report,
                       const std::string& generatedBy);

}  // namespace driftscope
