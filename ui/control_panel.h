// ControlPanel: the experiment's settings and the run buttons, shown in the left dock.
// It edits a RunConfig, validates every field as it is typed (the field is marked and
// its tooltip gives the reason; Start stays disabled until all are valid), shows the
// memory the snapshot ring will take, and locks the fields that cannot change during a
// run (with a tooltip saying why). The learning rate stays live: a logarithmic slider
// (1e-4 .. 1) and a spin box edit the same value. GUI thread only; renders and forwards.
#pragma once

#include <QString>
#include <QWidget>
#include <optional>
#include <vector>

#include "core/config/run_config.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSlider;
class QSpinBox;

namespace driftscope::ui {

class ControlPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ControlPanel(QWidget* parent = nullptr);

  RunConfig config() const;
  void setConfig(const RunConfig& config);
  // Empty when valid; otherwise the first problem, naming the field.
  QString validationError() const;

  // running: a run exists; paused: it is paused.
  void setRunState(bool running, bool paused);
  double learningRate() const;
  void setLearningRate(double lr);

  // For tests.
  QSlider* learningRateSlider() const { return m_lrSlider; }
  QDoubleSpinBox* learningRateSpin() const { return m_lrSpin; }
  QLineEdit* hiddenLayersEdit() const { return m_hidden; }
  QPushButton* startButton() const { return m_start; }
  QComboBox* datasetCombo() const { return m_dataset; }
  // Sets the data set to four IDX files (as "Open IDX files..." does).
  void setIdxFiles(const QStringList& paths);
  // "1000, 4000" -> {1000, 4000}; empty -> {}; nullopt when not a list of counts.
  static std::optional<std::vector<std::int64_t>> parsePins(const QString& text);

 Q_SIGNALS:
  void startPauseClicked();
  void stopClicked();
  void resetClicked();
  void learningRateChanged(double lr);
  void configEdited();

 private:
  void revalidate();
  void chooseIdxFiles();
  void updateMemoryLabel();
  void lrFromSlider(int position);
  void lrFromSpin(double lr);

  QDoubleSpinBox* m_lrSpin = nullptr;
  QSlider* m_lrSlider = nullptr;
  QSpinBox* m_batch = nullptr;
  QDoubleSpinBox* m_momentum = nullptr;
  QDoubleSpinBox* m_weightDecay = nullptr;
  QComboBox* m_loss = nullptr;
  QLineEdit* m_hidden = nullptr;
  QComboBox* m_activation = nullptr;
  QSpinBox* m_seed = nullptr;
  QSpinBox* m_threads = nullptr;
  QComboBox* m_dataset = nullptr;
  QSpinBox* m_burnIn = nullptr;
  QCheckBox* m_burnInAuto = nullptr;
  QSpinBox* m_epochs = nullptr;
  QSpinBox* m_recordEvery = nullptr;
  QSpinBox* m_capacity = nullptr;
  QLabel* m_memory = nullptr;
  QSpinBox* m_baselineSamples = nullptr;
  QLineEdit* m_pins = nullptr;
  QLabel* m_error = nullptr;
  QPushButton* m_start = nullptr;
  QPushButton* m_stop = nullptr;
  QPushButton* m_reset = nullptr;

  QStringList m_idxFiles;    // for the "IDX files" entry
  RunConfig m_hiddenFields;  // settings without a widget (kept from setConfig)
  bool m_running = false;
  bool m_paused = false;
  bool m_syncingLr = false;
};

}  // namespace driftscope::ui
