#include "ui/charts/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace driftscope::ui {

namespace {

// Entries 0, 17, 34, ..., 255 of matplotlib's _viridis_data (RGB in [0, 1]).
constexpr std::array<std::array<double, 3>, 16> kViridisAnchors = {{
    {0.267004, 0.004874, 0.329415},
    {0.282656, 0.100196, 0.422160},
    {0.277134, 0.185228, 0.489898},
    {0.253935, 0.265254, 0.529983},
    {0.221989, 0.339161, 0.548752},
    {0.190631, 0.407061, 0.556089},
    {0.163625, 0.471133, 0.558148},
    {0.139147, 0.533812, 0.555298},
    {0.120565, 0.596422, 0.543611},
    {0.134692, 0.658636, 0.517649},
    {0.208030, 0.718701, 0.472873},
    {0.327796, 0.773980, 0.406640},
    {0.477504, 0.821444, 0.318195},
    {0.647257, 0.858400, 0.209861},
    {0.824940, 0.884720, 0.106217},
    {0.993248, 0.906157, 0.143936},
}};

}  // namespace

QColor viridis(double t) {
  if (!(t >= 0.0)) t = 0.0;  // also catches NaN
  t = std::min(t, 1.0);
  const double pos = t * static_cast<double>(kViridisAnchors.size() - 1);
  const auto i = std::min(static_cast<std::size_t>(pos), kViridisAnchors.size() - 2);
  const double f = pos - static_cast<double>(i);
  const auto& a = kViridisAnchors[i];
  const auto& b = kViridisAnchors[i + 1];
  auto channel = [&](int c) {
    return static_cast<int>(std::lround(255.0 * ((1.0 - f) * a[c] + f * b[c])));
  };
  return QColor(channel(0), channel(1), channel(2));
}

}  // namespace driftscope::ui
