// The figures of `driftscope run` and `driftscope report`: every plot as PNG and SVG in the
// output folder, by the window's chart code on Qt's offscreen platform (no display needed).
#pragma once

#include <string>

#include "core/engine/analysis_state.h"
#include "core/report/report.h"
#include "core/status.h"

namespace driftscope::app {

Status writeRunFigures(const std::string& dir, const AnalysisState& state, int stepsPerEpoch,
                       int recordEvery);

Status writeReportFigures(const std::string& dir, const Report& report);

}  // namespace driftscope::app
