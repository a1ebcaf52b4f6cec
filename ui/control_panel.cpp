#include "ui/control_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

#include "core/data/dataset.h"
#include "core/model/mlp_layout.h"
#include "core/parallel.h"

namespace driftscope::ui {
namespace {

constexpr double kLrMin = 1e-4;
constexpr double kLrMax = 1.0;
constexpr int kSliderSteps = 400;  // 100 positions per decade
const char* kLockedTip = "Cannot change during a run: Stop or Reset first.";

int sliderFromLr(double lr) {
  const double t = (std::log10(std::clamp(lr, kLrMin, kLrMax)) - std::log10(kLrMin)) /
                   (std::log10(kLrMax) - std::log10(kLrMin));
  return static_cast<int>(std::lround(t * kSliderSteps));
}

double lrFromSliderPosition(int pos) {
  const double t = static_cast<double>(pos) / kSliderSteps;
  return std::pow(10.0, std::log10(kLrMin) + t * (std::log10(kLrMax) - std::log10(kLrMin)));
}

void markField(QWidget* w, const QString& reason, const QString& normalTip) {
  w->setStyleSheet(reason.isEmpty() ? QString() : QStringLiteral("border: 2px solid #d62728;"));
  w->setToolTip(reason.isEmpty() ? normalTip : reason);
}

}  // namespace

std::optional<std::vector<std::int64_t>> ControlPanel::parsePins(const QString& text) {
  std::vector<std::int64_t> pins;
  const QString trimmed = text.trimmed();
  if (trimmed.isEmpty()) return pins;
  for (const QString& part : trimmed.split(QLatin1Char(','))) {
    bool ok = false;
    const qlonglong v = part.trimmed().toLongLong(&ok);
    if (!ok || v < 0) return std::nullopt;
    pins.push_back(v);
  }
  return pins;
}

ControlPanel::ControlPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);

  // Learning rate: live during a run.
  auto* lrBox = new QGroupBox(tr("Learning rate (live)"), this);
  auto* lrLayout = new QHBoxLayout(lrBox);
  m_lrSlider = new QSlider(Qt::Horizontal, lrBox);
  m_lrSlider->setRange(0, kSliderSteps);
  m_lrSlider->setToolTip(tr("Logarithmic, 1e-4 to 1. Changes apply from the next SGD step."));
  m_lrSpin = new QDoubleSpinBox(lrBox);
  m_lrSpin->setDecimals(5);
  m_lrSpin->setRange(kLrMin, kLrMax);
  m_lrSpin->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
  m_lrSpin->setAccessibleName(tr("learning rate"));
  lrLayout->addWidget(m_lrSlider, 1);
  lrLayout->addWidget(m_lrSpin);
  layout->addWidget(lrBox);
  connect(m_lrSlider, &QSlider::valueChanged, this, [this](int p) { lrFromSlider(p); });
  connect(m_lrSpin, &QDoubleSpinBox::valueChanged, this, [this](double v) { lrFromSpin(v); });

  auto* modelBox = new QGroupBox(tr("Model and optimiser"), this);
  auto* form = new QFormLayout(modelBox);
  m_dataset = new QComboBox(modelBox);
  m_dataset->addItem(tr("Embedded MNIST (10,000 digits)"), QStringLiteral("mnist-embedded"));
  if (fashionMnistInstalled()) {
    m_dataset->addItem(tr("Fashion-MNIST (70,000, Debian)"), QStringLiteral("fashion-mnist"));
  }
  m_dataset->addItem(tr("Open IDX files..."), QStringLiteral("idx"));
  form->addRow(tr("Data set"), m_dataset);
  m_hidden = new QLineEdit(modelBox);
  m_hidden->setPlaceholderText(tr("e.g. 128 or 256,256"));
  form->addRow(tr("Hidden layers"), m_hidden);
  m_activation = new QComboBox(modelBox);
  m_activation->addItem(QStringLiteral("ReLU"), QStringLiteral("relu"));
  m_activation->addItem(QStringLiteral("tanh"), QStringLiteral("tanh"));
  form->addRow(tr("Activation"), m_activation);
  m_loss = new QComboBox(modelBox);
  m_loss->addItem(tr("Cross-entropy"), QStringLiteral("ce"));
  m_loss->addItem(tr("MSE"), QStringLiteral("mse"));
  form->addRow(tr("Loss"), m_loss);
  m_batch = new QSpinBox(modelBox);
  m_batch->setRange(1, 65536);
  form->addRow(tr("Batch size"), m_batch);
  m_momentum = new QDoubleSpinBox(modelBox);
  m_momentum->setRange(0.0, 0.999);
  m_momentum->setDecimals(3);
  m_momentum->setSingleStep(0.05);
  form->addRow(tr("Momentum"), m_momentum);
  m_weightDecay = new QDoubleSpinBox(modelBox);
  m_weightDecay->setRange(0.0, 1.0);
  m_weightDecay->setDecimals(6);
  m_weightDecay->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
  form->addRow(tr("Weight decay"), m_weightDecay);
  m_seed = new QSpinBox(modelBox);
  m_seed->setRange(0, 2147483647);
  form->addRow(tr("Seed"), m_seed);
  m_threads = new QSpinBox(modelBox);
  m_threads->setRange(1, std::max(1, ParallelContext::hardwareThreads()));
  form->addRow(tr("Threads"), m_threads);
  layout->addWidget(modelBox);

  auto* recBox = new QGroupBox(tr("Recording"), this);
  auto* rec = new QFormLayout(recBox);
  auto* burnRow = new QHBoxLayout;
  m_burnIn = new QSpinBox(recBox);
  m_burnIn->setRange(0, 100000);
  m_burnIn->setSuffix(tr(" epochs"));
  m_burnInAuto = new QCheckBox(tr("auto"), recBox);
  m_burnInAuto->setToolTip(
      tr("Start recording once the test loss has not improved by 0.5% "
         "for 3 epochs."));
  burnRow->addWidget(m_burnIn, 1);
  burnRow->addWidget(m_burnInAuto);
  rec->addRow(tr("Burn-in"), burnRow);
  m_epochs = new QSpinBox(recBox);
  m_epochs->setRange(1, 1000000);
  rec->addRow(tr("Total epochs"), m_epochs);
  m_recordEvery = new QSpinBox(recBox);
  m_recordEvery->setRange(1, 10000000);
  m_recordEvery->setSuffix(tr(" steps"));
  rec->addRow(tr("Snapshot every"), m_recordEvery);
  m_capacity = new QSpinBox(recBox);
  m_capacity->setRange(2, 100000);
  m_capacity->setSuffix(tr(" snapshots"));
  rec->addRow(tr("Ring capacity"), m_capacity);
  m_memory = new QLabel(recBox);
  rec->addRow(QString(), m_memory);
  m_baselineSamples = new QSpinBox(recBox);
  m_baselineSamples->setRange(2, 1000000);
  rec->addRow(tr("Baseline samples"), m_baselineSamples);
  m_pins = new QLineEdit(recBox);
  m_pins->setPlaceholderText(tr("e.g. 1000,4000 (optional)"));
  m_pins->setToolTip(
      tr("Aging: snapshots this many steps after recording starts become extra "
         "references (up to 4); Ctrl+click a heatmap row pins one by hand."));
  rec->addRow(tr("Pin references at"), m_pins);
  layout->addWidget(recBox);

  m_error = new QLabel(this);
  m_error->setWordWrap(true);
  m_error->setStyleSheet(QStringLiteral("color: #d62728;"));
  layout->addWidget(m_error);

  auto* buttons = new QHBoxLayout;
  m_start = new QPushButton(tr("Start"), this);
  m_stop = new QPushButton(tr("Stop"), this);
  m_reset = new QPushButton(tr("Reset"), this);
  buttons->addWidget(m_start);
  buttons->addWidget(m_stop);
  buttons->addWidget(m_reset);
  layout->addLayout(buttons);
  layout->addStretch(1);
  connect(m_start, &QPushButton::clicked, this, [this] { Q_EMIT startPauseClicked(); });
  connect(m_stop, &QPushButton::clicked, this, [this] { Q_EMIT stopClicked(); });
  connect(m_reset, &QPushButton::clicked, this, [this] { Q_EMIT resetClicked(); });

  auto edited = [this] {
    revalidate();
    Q_EMIT configEdited();
  };
  connect(m_hidden, &QLineEdit::textChanged, this, edited);
  connect(m_pins, &QLineEdit::textChanged, this, edited);
  for (QSpinBox* s : {m_batch, m_seed, m_threads, m_burnIn, m_epochs, m_recordEvery, m_capacity,
                      m_baselineSamples}) {
    connect(s, &QSpinBox::valueChanged, this, edited);
  }
  for (QDoubleSpinBox* s : {m_momentum, m_weightDecay}) {
    connect(s, &QDoubleSpinBox::valueChanged, this, edited);
  }
  for (QComboBox* c : {m_activation, m_loss}) {
    connect(c, &QComboBox::currentIndexChanged, this, edited);
  }
  connect(m_burnInAuto, &QCheckBox::toggled, this, [this, edited](bool on) {
    m_burnIn->setEnabled(!on && !m_running);
    edited();
  });
  connect(m_dataset, &QComboBox::activated, this, [this, edited](int index) {
    if (m_dataset->itemData(index).toString() == QLatin1String("idx")) chooseIdxFiles();
    edited();
  });

  setConfig(RunConfig{});
}

void ControlPanel::lrFromSlider(int position) {
  if (m_syncingLr) return;
  m_syncingLr = true;
  const double lr = lrFromSliderPosition(position);
  m_lrSpin->setValue(lr);
  m_syncingLr = false;
  Q_EMIT learningRateChanged(m_lrSpin->value());
}

void ControlPanel::lrFromSpin(double lr) {
  if (m_syncingLr) return;
  m_syncingLr = true;
  m_lrSlider->setValue(sliderFromLr(lr));
  m_syncingLr = false;
  Q_EMIT learningRateChanged(lr);
}

double ControlPanel::learningRate() const { return m_lrSpin->value(); }

void ControlPanel::setLearningRate(double lr) {
  m_syncingLr = true;
  m_lrSpin->setValue(lr);
  m_lrSlider->setValue(sliderFromLr(lr));
  m_syncingLr = false;
}

void ControlPanel::chooseIdxFiles() {
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Choose four IDX files: train images, train labels, test images, test labels"),
      QString(), tr("IDX files (*idx*-ubyte* *.idx *.gz);;All files (*)"));
  if (files.size() == 4) {
    setIdxFiles(files);
  } else if (!files.isEmpty()) {
    m_error->setText(tr("Choose exactly four IDX files (got %1).").arg(files.size()));
  }
}

void ControlPanel::setIdxFiles(const QStringList& paths) {
  QStringList sorted = paths;
  // Order: train images, train labels, test images, test labels (by name when possible).
  auto rank = [](const QString& p) {
    const QString n = p.section(QLatin1Char('/'), -1).toLower();
    const bool test = n.contains(QLatin1String("t10k")) || n.contains(QLatin1String("test"));
    const bool labels = n.contains(QLatin1String("label"));
    return (test ? 2 : 0) + (labels ? 1 : 0);
  };
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const QString& a, const QString& b) { return rank(a) < rank(b); });
  m_idxFiles = sorted;
  const int index = m_dataset->findData(QStringLiteral("idx"));
  m_dataset->setItemText(index, tr("IDX: %1 (+3)").arg(sorted.value(0).section('/', -1)));
  m_dataset->setCurrentIndex(index);
  revalidate();
}

RunConfig ControlPanel::config() const {
  RunConfig c = m_hiddenFields;
  const QString ds = m_dataset->currentData().toString();
  if (ds == QLatin1String("idx")) {
    c.dataset = "idx:" + m_idxFiles.join(QLatin1Char(',')).toStdString();
  } else {
    c.dataset = ds.toStdString();
  }
  auto hidden = parseHiddenSizes(m_hidden->text().toStdString());
  std::vector<int> layers = {c.layers.front()};
  if (hidden) layers.insert(layers.end(), hidden->begin(), hidden->end());
  layers.push_back(c.layers.back());
  c.layers = layers;
  c.activation = m_activation->currentData().toString() == QLatin1String("tanh")
                     ? Activation::kTanh
                     : Activation::kRelu;
  c.loss = m_loss->currentData().toString() == QLatin1String("mse") ? LossKind::kMse
                                                                    : LossKind::kCrossEntropy;
  c.sgd.learningRate = static_cast<float>(m_lrSpin->value());
  c.sgd.batchSize = m_batch->value();
  c.sgd.momentum = static_cast<float>(m_momentum->value());
  c.sgd.weightDecay = static_cast<float>(m_weightDecay->value());
  c.sgd.seed = static_cast<std::uint64_t>(m_seed->value());
  c.sgd.threads = m_threads->value();
  c.burnInAuto = m_burnInAuto->isChecked();
  c.burnInEpochs = m_burnIn->value();
  c.epochs = m_epochs->value();
  c.recordEvery = m_recordEvery->value();
  c.capacity = m_capacity->value();
  c.baselineSamples = m_baselineSamples->value();
  c.pinAfterSteps.clear();
  if (auto pins = parsePins(m_pins->text())) c.pinAfterSteps = *pins;
  c.lrHistory.clear();
  return c;
}

void ControlPanel::setConfig(const RunConfig& c) {
  m_hiddenFields = c;
  const QString ds = QString::fromStdString(c.dataset);
  if (ds.startsWith(QLatin1String("idx:"))) {
    setIdxFiles(ds.mid(4).split(QLatin1Char(',')));
  } else {
    const int i = m_dataset->findData(ds);
    m_dataset->setCurrentIndex(i >= 0 ? i : 0);
  }
  QStringList hidden;
  for (std::size_t i = 1; i + 1 < c.layers.size(); ++i) hidden << QString::number(c.layers[i]);
  m_hidden->setText(hidden.join(QLatin1Char(',')));
  m_activation->setCurrentIndex(c.activation == Activation::kTanh ? 1 : 0);
  m_loss->setCurrentIndex(c.loss == LossKind::kMse ? 1 : 0);
  setLearningRate(c.sgd.learningRate);
  m_batch->setValue(c.sgd.batchSize);
  m_momentum->setValue(c.sgd.momentum);
  m_weightDecay->setValue(c.sgd.weightDecay);
  m_seed->setValue(static_cast<int>(std::min<std::uint64_t>(c.sgd.seed, 2147483647)));
  m_threads->setValue(c.sgd.threads);
  m_burnInAuto->setChecked(c.burnInAuto);
  m_burnIn->setValue(c.burnInEpochs);
  m_epochs->setValue(c.epochs);
  m_recordEvery->setValue(c.recordEvery);
  m_capacity->setValue(c.capacity);
  m_baselineSamples->setValue(c.baselineSamples);
  QStringList pins;
  for (std::int64_t p : c.pinAfterSteps) pins << QString::number(p);
  m_pins->setText(pins.join(QLatin1Char(',')));
  revalidate();
}

QString ControlPanel::validationError() const {
  auto hidden = parseHiddenSizes(m_hidden->text().toStdString());
  if (!hidden) return QString::fromStdString(hidden.message());
  if (!parsePins(m_pins->text())) {
    return tr("pin references at: \"%1\" is not a list of step counts like 1000,4000")
        .arg(m_pins->text());
  }
  if (m_dataset->currentData().toString() == QLatin1String("idx") && m_idxFiles.size() != 4) {
    return tr("data set: choose four IDX files");
  }
  if (Status s = validateConfig(config()); !s) return QString::fromStdString(s.message());
  return {};
}

void ControlPanel::updateMemoryLabel() {
  const RunConfig c = config();
  const std::uint64_t need = ringBytes(c);
  const std::uint64_t limit = effectiveMemoryLimit(c);
  m_memory->setText(tr("ring: %1 of %2 allowed")
                        .arg(QString::fromStdString(formatBytes(need)),
                             QString::fromStdString(formatBytes(limit))));
}

void ControlPanel::revalidate() {
  auto hidden = parseHiddenSizes(m_hidden->text().toStdString());
  markField(m_hidden, hidden ? QString() : QString::fromStdString(hidden.message()),
            tr("Hidden layer sizes, e.g. 128 or 256,256"));
  const QString error = validationError();
  markField(m_pins, error.contains(QLatin1String("pin")) ? error : QString(),
            tr("Aging: steps after recording starts at which to pin extra references"));
  markField(m_capacity, error.contains(QLatin1String("\"capacity\"")) ? error : QString(),
            tr("Snapshots kept in memory"));
  markField(m_burnIn, error.contains(QLatin1String("\"burn_in\"")) ? error : QString(),
            tr("Epochs before recording starts"));
  m_error->setText(error);
  updateMemoryLabel();
  setRunState(m_running, m_paused);
}

void ControlPanel::setRunState(bool running, bool paused) {
  m_running = running;
  m_paused = paused;
  const bool valid = validationError().isEmpty();
  m_start->setText(!running ? tr("Start") : (paused ? tr("Resume") : tr("Pause")));
  m_start->setEnabled(running || valid);
  m_start->setToolTip(running || valid ? QString() : validationError());
  m_stop->setEnabled(running);
  for (QWidget* w : std::initializer_list<QWidget*>{
           m_batch, m_momentum, m_weightDecay, m_loss, m_hidden, m_activation, m_seed, m_threads,
           m_dataset, m_burnInAuto, m_epochs, m_recordEvery, m_capacity, m_baselineSamples,
           m_pins}) {
    w->setEnabled(!running);
    if (running) w->setToolTip(tr(kLockedTip));
  }
  m_burnIn->setEnabled(!running && !m_burnInAuto->isChecked());
  if (running) m_burnIn->setToolTip(tr(kLockedTip));
}

}  // namespace driftscope::ui
