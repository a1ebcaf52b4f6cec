// driftscope: the desktop window, `driftscope run` for the headless experiment, or
// `driftscope report` to compare finished runs.
#include <cstring>
#include <iostream>

#include "app/report_command.h"
#include "app/run_command.h"

#ifdef DRIFTSCOPE_WITH_GUI
#include "app/gui_main.h"
#endif

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "run") == 0) {
    return driftscope::app::runCommand(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "report") == 0) {
    return driftscope::app::reportCommand(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "--version") == 0) {
    std::cout << "driftscope " << DRIFTSCOPE_VERSION << "\n";
    return 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "--has-gui") == 0) {  // for scripts/run.sh
#ifdef DRIFTSCOPE_WITH_GUI
    return 0;
#else
    return 1;
#endif
  }
#ifdef DRIFTSCOPE_WITH_GUI
  return driftscope::app::guiMain(argc, argv);
#else
  std::cerr << "driftscope: built without the window; use `driftscope run --help`\n";
  return 2;
#endif
}
