#include "app/report_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "core/report/report.h"
#include "core/report/report_text.h"
#include "core/report/run_folder.h"

#ifdef DRIFTSCOPE_WITH_GUI
#include "app/run_figures.h"
#endif

#ifndef DRIFTSCOPE_VERSION
#define DRIFTSCOPE_VERSION "unknown"
#endif

namespace driftscope::app {

int reportCommand(int argc, char** argv) {
  CLI::App app{
      "Compare finished runs (folders of `driftscope run` or the window's Export all): a "
      "Markdown and HTML report with figures (d/baseline, MSD with fitted alpha, aligned "
      "against raw distance, weight norm, function-space disagreement) and tables of the "
      "headline numbers. Runs that differ only by the seed are also compared with each other "
      "(distance between independent solutions, raw and aligned).",
      "driftscope report"};
  std::vector<std::string> runs;
  std::string out;
  std::string title = "Driftscope report";
  std::string labels;
  bool noFigures = false;
  bool noSvg = false;
  bool quiet = false;
  app.add_option("--runs", runs, "Run folders to compare")->required()->expected(1, -1);
  app.add_option("--out", out, "Folder for the report (created if missing)")->required();
  app.add_option("--title", title, "Report title");
  app.add_option("--labels", labels, "Comma-separated run labels (default: the folder names)");
  app.add_flag("--no-figures", noFigures, "Write the text and tables only, no PNG/SVG");
  app.add_flag("--no-svg", noSvg, "PNG figures only");
  app.add_flag("-q,--quiet", quiet, "Print nothing on success");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "driftscope report: " << e.what() << "\n";
    return 2;
  }

  ReportOptions options;
  options.title = title;
  options.withFigures = !noFigures;
  options.withSvg = !noSvg;
#ifndef DRIFTSCOPE_WITH_GUI
  if (options.withFigures) {
    std::cerr << "driftscope report: built without Qt, no figures written\n";
    options.withFigures = false;
  }
#endif
  if (!labels.empty()) {
    std::string cell;
    for (char c : labels + ",") {
      if (c == ',') {
        options.labels.push_back(cell);
        cell.clear();
      } else {
        cell.push_back(c);
      }
    }
  }
  {
    std::error_code ec;
    if (std::filesystem::exists(out, ec) && !std::filesystem::is_directory(out, ec)) {
      std::cerr << "driftscope report: --out " << out << ": exists and is not a folder\n";
      return 2;
    }
  }
  std::vector<RunFolder> folders;
  for (const std::string& dir : runs) {
    auto run = loadRunFolder(dir);
    if (!run) {
      std::cerr << "driftscope report: " << run.message() << "\n";
      return 2;
    }
    folders.push_back(std::move(run).value());
  }
  auto report = buildReport(folders, options);
  if (!report) {
    std::cerr << "driftscope report: " << report.message() << "\n";
    return 2;
  }
  const std::string generatedBy = std::string("driftscope ") + DRIFTSCOPE_VERSION + " report";
  if (Status s = writeReportText(out, *report, generatedBy); !s) {
    std::cerr << "driftscope report: could not write the report: " << s.message() << "\n";
    return 4;
  }
#ifdef DRIFTSCOPE_WITH_GUI
  if (Status s = writeReportFigures(out, *report); !s) {
    std::cerr << "driftscope report: could not write the figures: " << s.message() << "\n";
    return 4;
  }
#endif
  if (!quiet) {
    std::printf("wrote %s/report.md and report.html (%zu runs, %zu independent pairs)\n",
                out.c_str(), folders.size(), report->pairs.size());
  }
  return 0;
}

}  // namespace driftscope::app
