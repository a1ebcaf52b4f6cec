// `driftscope report --runs DIR... --out REPORT_DIR`: compares finished runs (folders
// written by `driftscope run` or the window's "Export all") in a Markdown + HTML report
// with PNG/SVG figures and CSV tables. Exit codes: 0 written, 2 bad arguments or an
// unreadable run (nothing written), 4 the report could not be written.
#pragma once

namespace driftscope::app {

int reportCommand(int argc, char** argv);

}  // namespace driftscope::app
