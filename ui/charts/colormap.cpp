#include "ui/charts/colormap.h"

#include <QPalette>
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

namespace {

// sRGB relative luminance (WCAG 2.x, IEC 61966-2-1 linearisation).
double luminance(const QColor& c) {
  auto lin = [](double v) { return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF());
}

QColor mix(const QColor& a, const QColor& b, double t) {
  return QColor::fromRgbF(static_cast<float>(a.redF() + t * (b.redF() - a.redF())),
                          static_cast<float>(a.greenF() + t * (b.greenF() - a.greenF())),
                          static_cast<float>(a.blueF() + t * (b.blueF() - a.blueF())));
}

}  // namespace

double contrastRatio(const QColor& a, const QColor& b) {
  const double la = luminance(a);
  const double lb = luminance(b);
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

PlotLook PlotLook::light() {
  PlotLook l;
  l.dark = false;
  l.background = Qt::white;
  l.title = QColor(0x20, 0x20, 0x20);
  l.text = QColor(0x20, 0x20, 0x20);
  l.tickText = QColor(0x30, 0x30, 0x30);
  l.grid = QColor(0xdd, 0xdd, 0xdd);
  l.minorGrid = QColor(0xf0, 0xf0, 0xf0);
  l.axisLine = QColor(0x80, 0x80, 0x80);
  l.hoverFill = QColor(255, 255, 255, 225);
  l.hoverBorder = QColor(0xb0, 0xb0, 0xb0);
  l.hoverText = QColor(0x20, 0x20, 0x20);
  return l;
}

PlotLook PlotLook::forPalette(const QPalette& palette) {
  const QColor bg = palette.color(QPalette::Window);
  if (bg.lightness() >= 128) return light();
  const QColor fg = palette.color(QPalette::WindowText);
  PlotLook l;
  l.dark = true;
  l.background = bg;
  l.title = fg;
  l.text = fg;
  l.tickText = mix(bg, fg, 0.85);
  l.grid = mix(bg, fg, 0.22);
  l.minorGrid = mix(bg, fg, 0.10);
  l.axisLine = mix(bg, fg, 0.55);
  l.hoverFill = palette.color(QPalette::Base);
  l.hoverFill.setAlpha(230);
  l.hoverBorder = mix(bg, fg, 0.40);
  l.hoverText = palette.color(QPalette::Text);
  return l;
}

QColor PlotLook::readable(const QColor& c, double minContrast) const {
  if (!dark || !c.isValid() || contrastRatio(c, background) >= minContrast) return c;
  // Bisect the fraction of white: contrast grows monotonically with it on a dark background.
  double lo = 0.0;
  double hi = 1.0;
  for (int i = 0; i < 20; ++i) {
    const double t = 0.5 * (lo + hi);
    (contrastRatio(mix(c, Qt::white, t), background) >= minContrast ? hi : lo) = t;
  }
  QColor out = mix(c, Qt::white, hi);
  out.setAlpha(c.alpha());
  return out;
}

}  // namespace driftscope::ui
