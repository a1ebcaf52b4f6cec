// Dashboard: every plot visible at once in a grid; each plot sits in a frame with a
// title bar whose button (or a double-click on the title) maximises it to the whole
// dashboard and back. Purely layout: the plots are created and fed by the main window.
#pragma once

#include <QFrame>
#include <QList>
#include <QWidget>

class QGridLayout;
class QHBoxLayout;
class QLabel;
class QMenu;
class QToolButton;

namespace driftscope::ui {

class PlotFrame : public QFrame {
  Q_OBJECT

 public:
  PlotFrame(const QString& title, QWidget* content, QWidget* parent = nullptr);
  QWidget* content() const { return m_content; }
  QString title() const;
  // Adds a drop-down button with `menu` to the title bar; the menu also opens on a
  // right-click anywhere in the frame.
  void setActionsMenu(QMenu* menu);

 Q_SIGNALS:
  void maximizeToggled();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  QLabel* m_title = nullptr;
  QHBoxLayout* m_bar = nullptr;
  QToolButton* m_maximize = nullptr;
  QWidget* m_content = nullptr;
};

class Dashboard : public QWidget {
  Q_OBJECT

 public:
  explicit Dashboard(QWidget* parent = nullptr);
  // Adds a plot at (row, column) of the grid.
  PlotFrame* addPlot(const QString& title, QWidget* content, int row, int column);
  void toggleMaximized(PlotFrame* frame);
  PlotFrame* maximized() const { return m_maximized; }
  const QList<PlotFrame*>& frames() const { return m_frames; }

 private:
  QGridLayout* m_grid = nullptr;
  QList<PlotFrame*> m_frames;
  PlotFrame* m_maximized = nullptr;
};

}  // namespace driftscope::ui
