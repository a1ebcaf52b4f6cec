// The window's entry point: `driftscope [--config FILE.json] [--start]`.
#pragma once

namespace driftscope::app {

int guiMain(int argc, char** argv);

}  // namespace driftscope::app
