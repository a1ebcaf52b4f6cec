// Colour maps shared by the heatmap and the PCA trajectory. Pure functions.
#pragma once

#include <QColor>

namespace driftscope::ui {

// matplotlib's "viridis" (van der Walt & Smith, CC0): t in [0, 1] (clamped; NaN -> 0)
// maps to a perceptually uniform dark-purple -> teal -> yellow ramp, #440154 at 0 and
// #fde725 at 1. Linear interpolation between 16 anchors sampled from the 256-entry table.
QColor viridis(double t);

}  // namespace driftscope::ui
