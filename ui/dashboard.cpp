#include "ui/dashboard.h"

#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace driftscope::ui {

PlotFrame::PlotFrame(const QString& title, QWidget* content, QWidget* parent)
    : QFrame(parent), m_content(content) {
  setFrameShape(QFrame::StyledPanel);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->setSpacing(0);
  auto* bar = new QHBoxLayout;
  m_bar = bar;
  m_title = new QLabel(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped()), this);
  m_title->setToolTip(tr("Double-click to maximise or restore"));
  m_title->installEventFilter(this);
  m_maximize = new QToolButton(this);
  m_maximize->setAutoRaise(true);
  m_maximize->setIcon(style()->standardIcon(QStyle::SP_TitleBarMaxButton));
  m_maximize->setToolTip(tr("Maximise / restore this plot"));
  bar->addWidget(m_title, 1);
  bar->addWidget(m_maximize);
  layout->addLayout(bar);
  layout->addWidget(content, 1);
  connect(m_maximize, &QToolButton::clicked, this, [this] { Q_EMIT maximizeToggled(); });
  setObjectName(title);
}

QString PlotFrame::title() const { return objectName(); }

void PlotFrame::setActionsMenu(QMenu* menu) {
  auto* button = new QToolButton(this);
  button->setAutoRaise(true);
  button->setText(tr("Export"));
  button->setToolTip(tr("Export this plot (PNG, SVG, CSV) or copy it"));
  button->setPopupMode(QToolButton::InstantPopup);
  button->setMenu(menu);
  m_bar->insertWidget(m_bar->count() - 1, button);
  setContextMenuPolicy(Qt::CustomContextMenu);
  connect(this, &QWidget::customContextMenuRequested, this,
          [this, menu](const QPoint& pos) { menu->popup(mapToGlobal(pos)); });
}

bool PlotFrame::eventFilter(QObject* watched, QEvent* event) {
  if (watched == m_title && event->type() == QEvent::MouseButtonDblClick) {
    Q_EMIT maximizeToggled();
    return true;
  }
  return QFrame::eventFilter(watched, event);
}

Dashboard::Dashboard(QWidget* parent) : QWidget(parent), m_grid(new QGridLayout(this)) {
  m_grid->setContentsMargins(0, 0, 0, 0);
  m_grid->setSpacing(4);
}

PlotFrame* Dashboard::addPlot(const QString& title, QWidget* content, int row, int column) {
  auto* frame = new PlotFrame(title, content, this);
  m_grid->addWidget(frame, row, column);
  m_grid->setRowStretch(row, 1);
  m_grid->setColumnStretch(column, 1);
  m_frames.append(frame);
  connect(frame, &PlotFrame::maximizeToggled, this, [this, frame] { toggleMaximized(frame); });
  return frame;
}

void Dashboard::toggleMaximized(PlotFrame* frame) {
  m_maximized = (m_maximized == frame) ? nullptr : frame;
  for (PlotFrame* f : m_frames) f->setVisible(!m_maximized || f == m_maximized);
}

}  // namespace driftscope::ui
