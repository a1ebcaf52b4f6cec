// PlotContext: how the run's clock maps onto the plots' x axes (steps or epochs, and the
// recording interval that turns a lag in snapshots into a lag in steps). A plain value,
// set by the window from the run configuration and passed with every state.
#pragma once

namespace driftscope::ui {

struct PlotContext {
  int stepsPerEpoch = 1;      // SGD steps per epoch (>= 1)
  int recordEvery = 1;        // K: steps between two snapshots (>= 1)
  bool timeInEpochs = false;  // x = epochs instead of steps where the plot is against time
};

}  // namespace driftscope::ui
