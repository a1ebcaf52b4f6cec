// Colour maps shared by the heatmap and the PCA trajectory, and PlotLook, the colours every
// plot draws its frame with (light or dark). Pure functions and values.
#pragma once

#include <QColor>

class QPalette;

namespace driftscope::ui {

// matplotlib's "viridis" (van der Walt & Smith, CC0): t in [0, 1] (clamped; NaN -> 0)
// maps to a perceptually uniform dark-purple -> teal -> yellow ramp, #440154 at 0 and
// #fde725 at 1. Linear interpolation between 16 anchors sampled from the 256-entry table.
QColor viridis(double t);

// WCAG 2.x contrast ratio (L1 + 0.05) / (L2 + 0.05) of the relative luminances, in [1, 21].
double contrastRatio(const QColor& a, const QColor& b);

// The frame colours of a plot: the light look (white paper, near-black text; the screen's
// light theme and every export) or the dark look (the palette's Window as the background,
// its WindowText as the text, grid and axis lines mixed between the two).
struct PlotLook {
  // Lines and markers need this contrast against the background (WCAG asks 3 for graphics;
  // a little more, as our lines are thin and dashed); tags and labels drawn in a series'
  // colour need kTextContrast.
  static constexpr double kLineContrast = 3.5;
  static constexpr double kTextContrast = 4.5;

  bool dark = false;
  QColor background;
  QColor title;
  QColor text;      // axis titles, legend
  QColor tickText;  // tick labels
  QColor grid;
  QColor minorGrid;
  QColor axisLine;
  QColor hoverFill;  // readout box
  QColor hoverBorder;
  QColor hoverText;

  static PlotLook light();
  // Dark when the palette's Window colour is dark, else light.
  static PlotLook forPalette(const QPalette& palette);

  // `c` in the light look; in the dark look `c` mixed towards white just enough to reach
  // `minContrast` against the background (hue kept, alpha kept).
  QColor readable(const QColor& c, double minContrast = kLineContrast) const;
};

}  // namespace driftscope::ui
