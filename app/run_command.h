// `driftscope run`: the headless experiment. Parses flags (CLI11) over an optional
// --config file, runs the Experiment with a progress line, and writes the outputs of
// design.md into --out. Exit codes: 0 completed, 2 bad flags/config/data (nothing
// written), 3 diverged (everything up to the last finite step written), 4 outputs could
// not be written, 130 interrupted (Ctrl-C; what was recorded is written).
#pragma once

namespace driftscope::app {

int runCommand(int argc, char** argv);

}  // namespace driftscope::app
