#include "core/engine/analysis_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "core/analysis/permutation.h"

namespace driftscope {

using Clock = std::chrono::steady_clock;

std::string toString(RunPhase p) {
  switch (p) {
    case RunPhase::kIdle:
      return "idle";
    case RunPhase::kBurnIn:
      return "burn-in";
    case RunPhase::kRecording:
      return "recording";
    case RunPhase::kPaused:
      return "paused";
    case RunPhase::kDiverged:
      return "diverged";
    case RunPhase::kStopped:
      return "stopped";
    case RunPhase::kFinished:
      return "finished";
  }
  return "?";
}

AnalysisOptions AnalysisOptions::fromConfig(const RunConfig& c) {
  AnalysisOptions o;
  o.capacity = c.capacity;
  o.baselineSamples = c.baselineSamples;
  o.seed = c.sgd.seed;
  o.alignEvery = c.alignEvery;
  o.pathPoints = c.pathPoints;
  o.msdLagMin = c.msdLagMin;
  o.msdLagMax = c.msdLagMax;
  o.recordEvery = c.recordEvery;
  o.threads = c.sgd.threads;
  o.pinAfterSteps = c.pinAfterSteps;
  o.liveShare = c.liveAnalysisShare;
  return o;
}

double AnalysisOptions::liveRate() const {
  if (liveShare >= 1.0) return std::numeric_limits<double>::infinity();
  if (!(liveShare > 0.0)) return 0.0;  // only when paused and at the end
  return std::max(0.0, liveShare) * threads + idleCores();
}

int AnalysisOptions::idleCores() const {
  const int hw = hardwareThreads > 0 ? hardwareThreads : ParallelContext::hardwareThreads();
  return std::max(0, hw - threads);
}

namespace {

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Half of the live rate for each of the two budgets, with 1 s of it in reserve: enough to
// start the first analyses at once (a start needs only a positive credit), small enough
// that the reserve adds little to a short stretch of training.
CpuBudget halfBudget(double rate) {
  if (!(rate < std::numeric_limits<double>::infinity())) return {};
  return {rate / 2.0, rate / 2.0};
}

bool isTraining(RunPhase p) { return p == RunPhase::kBurnIn || p == RunPhase::kRecording; }

}  // namespace

AnalysisEngine::AnalysisEngine(Mlp mlp, AnalysisOptions options,
                               const Eigen::Ref<const RowMatrix>& evalInputs,
                               std::span<const std::uint8_t> evalLabels)
    : m_mlp(std::move(mlp)),
      m_options(std::move(options)),
      m_evalInputs(evalInputs),
      m_evalLabels(evalLabels),
      m_parallel(options.threads),
      m_ring(options.capacity, m_mlp.layout().paramCount()),
      m_gram(options.capacity),
      m_liveBudget(halfBudget(m_options.liveRate())),
      m_pathBudget(halfBudget(m_options.liveRate())) {
  updateBudgets(RunPhase::kIdle);
  publish();
}

AnalysisEngine::~AnalysisEngine() { stop(); }

void AnalysisEngine::start() {
  if (m_started.exchange(true)) return;
  m_running.store(true);
  m_ringParallel = std::make_unique<ParallelContext>(m_options.threads);
  m_ringThread = std::thread([this] {
    lowerCurrentThreadPriority();
    ringWorkerMain();
  });
  m_thread = std::thread([this] {
    lowerCurrentThreadPriority();
    threadMain();
  });
}

void AnalysisEngine::joinAnalysisThread() {
  // finish(), stop() and runWithRing() may race to join: one joins, the others wait.
  std::lock_guard<std::mutex> lock(m_threadJoinMutex);
  if (m_thread.joinable()) m_thread.join();
  m_running.store(false);
  m_spaceFree.notify_all();
}

void AnalysisEngine::finish() {
  // Never started: the work runs on the caller, serialised with late requests from the
  // moment they can see m_finishRequested.
  std::unique_lock<std::mutex> inlineLock(m_inlineTaskMutex, std::defer_lock);
  if (!m_started.load()) inlineLock.lock();
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_stopRequested) return;  // abandoned: nothing more to analyse
    m_finishRequested = true;
  }
  m_wake.notify_all();
  if (m_started.load()) {
    joinAnalysisThread();
  } else {
    threadMain();
  }
  stopRingWorker();
}

void AnalysisEngine::stopRingWorker() {
  {
    std::lock_guard<std::mutex> lock(m_ringMutex);
    m_ringStop = true;
  }
  m_ringWake.notify_all();
  std::lock_guard<std::mutex> lock(m_ringJoinMutex);
  if (m_ringThread.joinable()) m_ringThread.join();
}

void AnalysisEngine::stop() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopRequested = true;
    m_pending.clear();
  }
  m_wake.notify_all();
  m_spaceFree.notify_all();
  joinAnalysisThread();
  stopRingWorker();
  std::thread late;  // joined outside m_lateMutex: the worker takes it to finish
  {
    std::lock_guard<std::mutex> lock(m_lateMutex);
    late = std::move(m_lateThread);
  }
  if (late.joinable()) late.join();
  // Tasks that never ran (export, session save) learn that they were cancelled: they get
  // a null state, so their callers are not left waiting.
  std::vector<RingTask> cancelled;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    cancelled.swap(m_ringTasks);
  }
  for (RingTask& t : cancelled) runTask(t, m_ring, nullptr);
}

void AnalysisEngine::runTask(RingTask& task, const SnapshotRing& ring,
                             std::shared_ptr<const AnalysisState> state) {
  try {
    task(ring, std::move(state));
  } catch (const std::exception&) {
    // Tasks report their own failures; one that throws (bad_alloc) must not end the run.
  }
}

void AnalysisEngine::submitSnapshot(const float* params, const SnapshotMeta& meta,
                                    bool outputsFollow) {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_spaceFree.wait(lock, [&] {
    return static_cast<int>(m_pending.size()) < kMaxPending || m_stopRequested || !m_running.load();
  });
  if (m_stopRequested) return;
  Vector buffer;
  if (!m_freeBuffers.empty()) {
    buffer = std::move(m_freeBuffers.back());
    m_freeBuffers.pop_back();
  }
  buffer = ConstVectorMap(params, static_cast<Eigen::Index>(m_mlp.layout().paramCount()));
  m_pending.push_back({std::move(buffer), meta, outputsFollow});
  lock.unlock();
  m_wake.notify_one();
}

void AnalysisEngine::submitFunctionOutputs(std::int64_t step, const RowMatrix& logits) {
  if (logits.rows() != m_evalInputs.rows() || logits.cols() != m_mlp.layout().outputSize()) {
    return;  // not logits of the evaluation inputs: the forward pass stays the route
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_stopRequested) return;
    m_outputsInbox.emplace_back(step, logits);
  }
  m_wake.notify_one();
}

void AnalysisEngine::submitEpoch(const EpochMetrics& m) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_metrics.push_back(m);
    m_dirty = true;
  }
  m_wake.notify_one();
}

void AnalysisEngine::submitBatchLoss(const BatchLossPoint& p) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_batchLoss.push_back(p);
  m_dirty = true;
}

void AnalysisEngine::submitProgress(const TrainProgress& p) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_progress = p;
    m_dirty = true;
  }
  m_wake.notify_one();
}

void AnalysisEngine::submitLearningRateChange(const LrChange& c) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_lrHistory.push_back(c);
    m_dirty = true;
  }
  m_wake.notify_one();
}

void AnalysisEngine::setPhase(RunPhase phase, const std::string& message) {
  auto terminal = [](RunPhase p) {
    return p == RunPhase::kFinished || p == RunPhase::kStopped || p == RunPhase::kDiverged;
  };
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (terminal(m_phase) && !terminal(phase)) return;  // a late Pause/Resume: the run ended
    m_phase = phase;
    if (!message.empty()) m_message = message;
    m_dirty = true;
  }
  m_wake.notify_one();
}

void AnalysisEngine::setRecordingStart(std::int64_t step) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_recordingStart = step;
  m_dirty = true;
}

void AnalysisEngine::requestReference(int snapshotIndex) {
  bool late = false;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_stopRequested) return;
    m_referenceRequest = snapshotIndex;
    late = m_finishRequested;  // the analysis thread may already have taken its last look
  }
  m_wake.notify_one();
  if (late) serveLateRequests();
}

void AnalysisEngine::runWithRing(RingTask fn) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_running.load() && !m_stopRequested && !m_finishRequested) {
      m_ringTasks.push_back(std::move(fn));
      m_wake.notify_one();
      return;
    }
  }
  // No analysis thread (finished, stopped or never started): the ring is ours to read.
  std::lock_guard<std::mutex> inlineLock(m_inlineTaskMutex);  // one inline task at a time
  joinAnalysisThread();
  finalAnalysis();
  publish();
  runTask(fn, m_ring, latest());
}

void AnalysisEngine::pinReference(int snapshotIndex) {
  bool late = false;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_stopRequested) return;
    m_pinRequests.push_back(snapshotIndex);
    late = m_finishRequested;
  }
  m_wake.notify_one();
  if (late) serveLateRequests();
}

void AnalysisEngine::serveLateRequests() {
  std::lock_guard<std::mutex> lock(m_lateMutex);
  if (m_lateBusy) return;  // the worker loops until the queue is empty
  if (m_lateThread.joinable()) m_lateThread.join();  // it has found the queue empty
  m_lateBusy = true;
  m_lateThread = std::thread([this] {
    while (true) {
      {
        // Checked under both locks, so a request queued after this sees m_lateBusy false
        // and starts a new worker.
        std::lock_guard<std::mutex> late(m_lateMutex);
        std::lock_guard<std::mutex> queue(m_mutex);
        if (m_stopRequested || (m_referenceRequest < 0 && m_pinRequests.empty())) {
          m_lateBusy = false;
          return;
        }
      }
      // Serialised with inline exports; waits for a finish() still in progress.
      std::lock_guard<std::mutex> inlineLock(m_inlineTaskMutex);
      joinAnalysisThread();
      if (applyRequests()) {
        finalAnalysis();
        publish();
      }
    }
  });
}

bool AnalysisEngine::applyRequests() {
  int referenceRequest = -1;
  std::vector<int> pins;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_stopRequested) return false;
    referenceRequest = std::exchange(m_referenceRequest, -1);
    pins.swap(m_pinRequests);
  }
  for (int index : pins) pinByIndex(index);
  if (referenceRequest >= 0) changeReference(referenceRequest);
  return referenceRequest >= 0 || !pins.empty();
}

void AnalysisEngine::threadMain() {
  auto lastFull = Clock::now() - std::chrono::hours(1);
  auto lastPublish = Clock::now() - std::chrono::hours(1);
  bool ringChanged = false;
  bool unpublished = false;
  while (true) {
    Pending job;
    bool haveJob = false;
    int referenceRequest = -1;
    std::vector<RingTask> tasks;
    std::vector<int> pins;
    bool finishing = false;
    RunPhase phase = RunPhase::kIdle;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      const bool idle = !ringChanged && !unpublished;
      // Wake on work; with analyses or a publication outstanding, also on a short timer.
      m_wake.wait_for(
          lock, idle ? std::chrono::milliseconds(100) : std::chrono::milliseconds(20), [&] {
            return !m_pending.empty() || !m_outputsInbox.empty() || m_referenceRequest >= 0 ||
                   !m_ringTasks.empty() ||
                   !m_pinRequests.empty() || m_finishRequested || m_stopRequested || m_dirty ||
                   (!m_functionQueue.empty() && !m_liveBudget.active());  // paused catch-up
          });
      if (m_stopRequested) return;
      unpublished = unpublished || m_dirty;
      m_dirty = false;  // consumed here, so a pending publication never spins the loop
      if (!m_pending.empty()) {
        job = std::move(m_pending.front());
        m_pending.pop_front();
        haveJob = true;
      }
      // Outputs are submitted after their snapshot and before the next one, so those of a
      // snapshot are here at the latest when the next snapshot is taken from m_pending.
      for (auto& [step, logits] : m_outputsInbox) m_functionOutputs[step] = std::move(logits);
      m_outputsInbox.clear();
      referenceRequest = std::exchange(m_referenceRequest, -1);
      tasks.swap(m_ringTasks);
      pins.swap(m_pinRequests);
      finishing = m_finishRequested && m_pending.empty() && !haveJob;
      phase = m_phase;
    }
    updateBudgets(phase);
    if (haveJob) {
      m_spaceFree.notify_one();
      processSnapshot(job);
      ringChanged = true;
      unpublished = true;
      std::lock_guard<std::mutex> lock(m_mutex);
      m_freeBuffers.push_back(std::move(job.params));
    }
    for (int index : pins) {
      pinByIndex(index);
      unpublished = true;
    }
    if (referenceRequest >= 0) {
      changeReference(referenceRequest);
      ringChanged = true;
      unpublished = true;
      lastFull = Clock::now() - std::chrono::hours(1);  // the user waits for this one
    }
    if (!tasks.empty() && !m_ring.empty()) {
      finalAnalysis();
      publish();
      lastPublish = Clock::now();
      unpublished = false;
      const auto consistent = latest();
      for (RingTask& t : tasks) runTask(t, m_ring, consistent);
    } else {
      for (RingTask& t : tasks) runTask(t, m_ring, latest());
    }
    if (finishing) {
      stopRingWorker();
      finalAnalysis();
      publish();
      return;
    }
    if (collectRingResult()) unpublished = true;
    // A refresh of the Gram rows, once started, goes on slice by slice whatever the budget
    // (its cost is charged as it goes), so it ends: each slice computes at least two rows,
    // more than the one snapshot taken between two slices adds.
    const bool ringJobDue = std::chrono::duration<double>(Clock::now() - lastFull).count() >=
                                m_options.fullAnalysisSeconds &&
                            m_liveBudget.allows(Clock::now());
    if (ringChanged && !m_ring.empty() && (m_gramRefreshing || ringJobDue) && dispatchRingJob()) {
      lastFull = Clock::now();
      ringChanged = false;
    }
    // Then the function distances still queued advance within the budget, a few at a time
    // (so new snapshots, a stop or a publication are never kept waiting long).
    if (advanceFunctionQueue()) unpublished = true;
    // At most ~30 publications a second, however fast snapshots arrive; none when idle.
    if (unpublished && std::chrono::duration<double>(Clock::now() - lastPublish).count() >= 0.03) {
      publish();
      lastPublish = Clock::now();
      unpublished = false;
    }
  }
}

void AnalysisEngine::adoptReference(const float* w, const SnapshotMeta& meta, bool resetGram) {
  const std::size_t P = m_mlp.layout().paramCount();
  m_ring.setReference(w, meta);
  if (resetGram) m_gram.setAnchor(m_ring.reference().data(), P);
  BaselineOptions bo;
  bo.samples = m_options.baselineSamples;
  bo.seed = deriveSeed(m_options.seed, 100 + static_cast<std::uint64_t>(meta.index));
  bo.deadUnitTolerance = m_options.deadUnitTolerance;
  m_baseline = std::make_shared<const BaselineBand>(
      computeBaseline(m_mlp.layout(), m_ring.reference().data(), bo, analysisParallel()));
  m_functionRef =
      makeFunctionReference(m_mlp, m_ring.reference().data(), m_evalInputs, m_workspace);
  ++m_functionForwardPasses;
  ++m_referenceGeneration;
}

DistanceRecord AnalysisEngine::measure(const float* w, const SnapshotMeta& meta, bool align) {
  DistanceRecord r;
  r.meta = meta;
  r.d = distanceBreakdown(m_mlp.layout(), m_ring.reference().data(), w);
  if (align) {
    const AlignmentResult a = alignWeights(m_mlp.layout(), m_ring.reference().data(), w);
    r.aligned = a.distance;
    r.alignedIdentity = a.identityFraction;
  }
  return r;
}

void AnalysisEngine::processSnapshot(const Pending& p) {
  const float* w = p.params.data();
  if (!m_ring.hasReference()) adoptReference(w, p.meta);
  // A snapshot still waiting for its function distance gets it before the ring drops it,
  // so function.csv has a row for every snapshot whatever the budget.
  if (m_ring.size() == m_ring.capacity() && !m_functionQueue.empty()) {
    const int victim = (m_ring.newestSlot() + 1) % m_ring.capacity();
    // Not charged: this work is due whatever the budget, and charging it would starve the
    // live views when snapshots come faster than the budget pays for (many small ones).
    if (m_ring.slotMeta(victim).index == m_functionQueue.front().meta.index) {
      computeFunctionDistances(1);
    }
  }
  const int slot = m_ring.push(w, p.meta);
  // The Gram row waits for the next ring analysis, which computes all waiting rows in one
  // pass over the ring (DistanceMatrix::addSnapshots).
  // (A reused slot moves to the end: the order is that of the snapshots it now holds.)
  std::erase(m_gramPending, slot);
  m_gramPending.push_back(slot);
  const bool align = m_options.alignEvery > 0 && p.meta.index % m_options.alignEvery == 0;
  m_distances.push_back(measure(w, p.meta, align));
  m_functionQueue.push_back({p.meta, p.outputsFollow});  // advanced by threadMain
  for (std::size_t k = 0; k < m_pinned.size(); ++k) {
    m_pinned[k].points.push_back({p.meta.step - m_pinned[k].reference.step,
                                  l2Distance(m_pinnedWeights[k].data(), w, m_ring.paramCount())});
  }
  ++m_snapshotsTaken;
  // Automatic pins at fixed waiting times after recording started.
  const auto& waits = m_options.pinAfterSteps;
  if (m_snapshotsTaken == 1) m_firstSnapshotStep = p.meta.step;
  const std::int64_t since = p.meta.step - m_firstSnapshotStep;  // since recording started
  if (m_nextAutoPin < waits.size() && since >= waits[m_nextAutoPin]) {
    ++m_nextAutoPin;
    pin(slot);
  }
}

void AnalysisEngine::pinByIndex(int snapshotIndex) {
  const int slot = m_ring.slotOfIndex(snapshotIndex);
  if (slot < 0) {
    m_analysisMessage =
        "snapshot " + std::to_string(snapshotIndex) + " is no longer in the ring; nothing pinned";
    return;
  }
  pin(slot);
}

void AnalysisEngine::pin(int slot) {
  const SnapshotMeta& meta = m_ring.slotMeta(slot);
  if (static_cast<int>(m_pinned.size()) >= AnalysisOptions::kMaxPinned) {
    m_analysisMessage = "already " + std::to_string(AnalysisOptions::kMaxPinned) +
                        " pinned references; snapshot " + std::to_string(meta.index) +
                        " not pinned";
    return;
  }
  for (const PinnedCurve& c : m_pinned) {
    if (c.reference.index == meta.index) return;
  }
  PinnedCurve curve;
  curve.reference = meta;
  const float* w = m_ring.slotData(slot);
  // Backfill from the snapshots after it that the ring still holds.
  for (int s : m_ring.chronological()) {
    const SnapshotMeta& m = m_ring.slotMeta(s);
    if (m.index < meta.index) continue;
    curve.points.push_back(
        {m.step - meta.step, l2Distance(w, m_ring.slotData(s), m_ring.paramCount())});
  }
  m_pinnedWeights.emplace_back(ConstVectorMap(w, static_cast<Eigen::Index>(m_ring.paramCount())));
  m_pinned.push_back(std::move(curve));
  m_analysisMessage = "pinned snapshot " + std::to_string(meta.index) + " as an extra reference";
}

void AnalysisEngine::changeReference(int snapshotIndex) {
  const int slot = m_ring.slotOfIndex(snapshotIndex);
  if (slot < 0) {
    m_analysisMessage = "snapshot " + std::to_string(snapshotIndex) +
                        " is no longer in the ring; reference unchanged";
    return;
  }
  // The heatmap's Gram matrix moves to the new anchor in O(C^2) (every row added first),
  // instead of a rebuild over the whole ring (O(C^2 P): minutes for C = 2000, P = 1M).
  flushGramRows();
  m_gram.moveAnchorToSlot(slot, m_ring.slotData(0));
  adoptReference(m_ring.slotData(slot), m_ring.slotMeta(slot), /*resetGram=*/false);
  const std::vector<int> slots = m_ring.chronological();
  // Series relative to the old reference cannot be recomputed for snapshots that left
  // the ring: the series restart with the snapshots the ring still holds.
  m_distances.clear();
  m_function.clear();
  m_functionQueue.clear();
  for (int s : slots) {
    const SnapshotMeta& meta = m_ring.slotMeta(s);
    const bool align = m_options.alignEvery > 0 && meta.index % m_options.alignEvery == 0;
    m_distances.push_back(measure(m_ring.slotData(s), meta, align));
    const FunctionDistance fd =
        functionDistance(m_mlp, m_functionRef, m_ring.slotData(s), m_evalInputs, m_workspace);
    ++m_functionForwardPasses;
    m_function.push_back({meta, fd.disagreement, fd.kl});
  }
  if (!slots.empty()) {  // outputs of snapshots already in the ring are no longer needed
    const std::int64_t newest = m_ring.slotMeta(slots.back()).step;
    std::erase_if(m_functionOutputs, [&](const auto& e) { return e.first <= newest; });
  }
  m_analysisMessage = "reference set to snapshot " + std::to_string(snapshotIndex);
}

void AnalysisEngine::flushGramRows() { flushGramRows(m_gramPending.size()); }

void AnalysisEngine::flushGramRows(std::size_t maxRows) {
  // Newest first: the oldest are the next to be overwritten (and to wait again). Any
  // subset may go first: an entry has the same bits whichever of its two slots is the
  // new one, and a waiting slot's row is recomputed against every slot when its turn comes.
  const std::size_t n = std::min(maxRows, m_gramPending.size());
  if (n == 0) return;
  const auto first = m_gramPending.end() - static_cast<std::ptrdiff_t>(n);
  m_gram.addSnapshots(std::vector<int>(first, m_gramPending.end()), m_ring.slotData(0),
                      analysisParallel());
  m_gramPending.erase(first, m_gramPending.end());
}

ParallelContext& AnalysisEngine::analysisParallel() {
  return m_liveBudget.active() && m_options.idleCores() == 0 ? m_serial : m_parallel;
}

void AnalysisEngine::updateBudgets(RunPhase phase) {
  const bool training = isTraining(phase);
  const auto now = Clock::now();
  if (m_liveBudget.active() != training) m_liveBudget.setActive(training, now);
  if (m_pathBudget.active() != training) m_pathBudget.setActive(training, now);
}

void AnalysisEngine::computeFunctionDistances(std::size_t count) {
  count = std::min(count, m_functionQueue.size());
  if (count == 0) return;
  std::vector<FunctionRecord> added;
  std::vector<int> slots;
  std::vector<const RowMatrix*> outputs;  // submitted logits, or null: a forward pass
  // Queued snapshots are in the ring, oldest first, in the ring's chronological order.
  const std::vector<int> chrono = m_ring.chronological();
  std::size_t c = 0;
  std::int64_t lastStep = std::numeric_limits<std::int64_t>::min();
  for (std::size_t k = 0; k < count; ++k) {
    const SnapshotMeta meta = m_functionQueue.front().meta;
    m_functionQueue.pop_front();
    lastStep = meta.step;
    while (c < chrono.size() && m_ring.slotMeta(chrono[c]).index < meta.index) ++c;
    if (c == chrono.size() || m_ring.slotMeta(chrono[c]).index != meta.index) {
      continue;  // cannot happen: the ring computes it before dropping it
    }
    const int slot = chrono[c];
    added.push_back({meta, 0.0, 0.0});
    slots.push_back(slot);
    const auto it = m_functionOutputs.find(meta.step);
    outputs.push_back(it == m_functionOutputs.end() ? nullptr : &it->second);
  }
  // Independent snapshots: tasks take every k-th one, each with its own workspace.
  const int n = static_cast<int>(added.size());
  const int forwardPasses =
      static_cast<int>(std::count(outputs.begin(), outputs.end(), nullptr));
  ParallelContext& parallel = analysisParallel();
  const int tasks = std::min(forwardPasses, parallel.threads());
  std::vector<MlpWorkspace> workspaces(static_cast<std::size_t>(tasks > 1 ? tasks : 0));
  auto task = [&](int t) {
    MlpWorkspace& ws = tasks > 1 ? workspaces[static_cast<std::size_t>(t)] : m_workspace;
    for (int k = t; k < n; k += std::max(tasks, 1)) {
      const RowMatrix* logits = outputs[static_cast<std::size_t>(k)];
      const FunctionDistance fd =
          logits != nullptr
              ? functionDistanceOfLogits(m_functionRef, *logits)
              : functionDistance(m_mlp, m_functionRef,
                                 m_ring.slotData(slots[static_cast<std::size_t>(k)]),
                                 m_evalInputs, ws);
      added[static_cast<std::size_t>(k)].disagreement = fd.disagreement;
      added[static_cast<std::size_t>(k)].kl = fd.kl;
    }
  };
  if (tasks <= 1) {
    task(0);
  } else {
    parallel.forEach(tasks, task);
  }
  m_functionForwardPasses += forwardPasses;
  for (const FunctionRecord& r : added) m_function.push_back(r);
  // Used, or of snapshots whose distance was computed without them (they came too late).
  std::erase_if(m_functionOutputs, [&](const auto& e) { return e.first <= lastStep; });
}

std::size_t AnalysisEngine::functionQueueReady() const {
  // While training runs, a snapshot whose logits are on their way waits for them (a few
  // ms: the trainer's evaluation of the same weights) rather than running a forward pass
  // of its own. Outputs are in before the next snapshot is (see threadMain), so only the
  // newest queued snapshot can be waiting.
  const std::size_t n = m_functionQueue.size();
  if (n == 0 || !m_liveBudget.active()) return n;
  const QueuedFunction& newest = m_functionQueue.back();
  const bool waits = newest.outputsFollow && !m_functionOutputs.contains(newest.meta.step);
  return waits ? n - 1 : n;
}

bool AnalysisEngine::advanceFunctionQueue() {
  if (functionQueueReady() == 0) return false;
  if (!m_liveBudget.active() || m_liveBudget.unlimited()) {
    computeFunctionDistances(std::min<std::size_t>(8, functionQueueReady()));
    return true;
  }
  // At most 8 per call, and none after 50 ms, even with credit to spare.
  bool any = false;
  const auto start = Clock::now();
  for (int k = 0; k < 8 && functionQueueReady() > 0 && m_liveBudget.allows(Clock::now()) &&
                  secondsSince(start) < 0.05;
       ++k) {
    const auto t0 = Clock::now();
    computeFunctionDistances(1);  // one thread
    m_liveBudget.charge(secondsSince(t0), Clock::now());
    any = true;
  }
  return any;
}

AnalysisEngine::RingJob AnalysisEngine::makeRingJob(bool withPath) const {
  RingJob job;
  const std::vector<int> slots = m_ring.chronological();
  for (int s : slots) job.snapshots.push_back(m_ring.slotMeta(s));
  job.gram = m_gram.gram(slots);
  job.reference = m_ring.reference();
  job.newest =
      ConstVectorMap(m_ring.slotData(slots.back()), static_cast<Eigen::Index>(m_ring.paramCount()));
  job.generation = m_referenceGeneration;
  // The previous path can stand in only if it belongs to the current reference.
  const bool previousValid = m_ringAnalysis && m_ringAnalysis->pathSnapshot >= 0 &&
                             m_ringAnalysisGeneration == m_referenceGeneration;
  job.withPath = withPath || !previousValid;
  if (!job.withPath) {
    job.previousPath = m_ringAnalysis->path;
    job.previousPathSnapshot = m_ringAnalysis->pathSnapshot;
  }
  return job;
}

AnalysisEngine::RingOutput AnalysisEngine::computeRingAnalysis(const RingJob& job,
                                                               ParallelContext& parallel) const {
  const auto t0 = Clock::now();
  auto ra = std::make_shared<RingAnalysis>();
  ra->snapshots = job.snapshots;
  ra->distances = distancesFromGram(job.gram);
  ra->pca = pcaFromGram(job.gram, 3);
  const int C = static_cast<int>(job.snapshots.size());
  ra->msd = msdFromDistances(ra->distances, std::max(1, C - 1));
  const int lagMax = m_options.msdLagMax > 0 ? m_options.msdLagMax : std::max(3, C / 4);
  ra->fit = fitPowerLaw(ra->msd, m_options.msdLagMin, lagMax);
  for (int tw : {C / 4, C / 2}) {
    if (tw < 1 || C - tw < 8) continue;
    const MsdResult aged = agingMsdFromDistances(ra->distances, tw, std::max(1, C - tw - 1));
    const int agedMax = m_options.msdLagMax > 0 ? m_options.msdLagMax : std::max(3, (C - tw) / 4);
    ra->aging.push_back({tw, fitPowerLaw(aged, m_options.msdLagMin, agedMax)});
  }
  // The straight path w_ref -> newest, raw and after weight matching.
  RingOutput out;
  if (job.withPath) {
    const auto p0 = Clock::now();
    out.newestAlignment = alignWeights(m_mlp.layout(), job.reference.data(), job.newest.data());
    Vector aligned(job.newest.size());
    apply(m_mlp.layout(), out.newestAlignment->perm, job.newest.data(), aligned.data());
    ra->path = linearPath(m_mlp, job.reference.data(), job.newest.data(), aligned.data(),
                          m_evalInputs, m_evalLabels, m_options.pathPoints, parallel);
    ra->pathSnapshot = job.snapshots.back().index;
    out.pathSeconds = secondsSince(p0);
  } else {
    ra->path = job.previousPath;
    ra->pathSnapshot = job.previousPathSnapshot;
  }
  out.analysis = std::move(ra);
  out.generation = job.generation;
  out.seconds = secondsSince(t0);
  out.threads = parallel.threads();
  return out;
}

void AnalysisEngine::ringWorkerMain() {
  while (true) {
    RingJob job;
    {
      std::unique_lock<std::mutex> lock(m_ringMutex);
      m_ringWake.wait(lock, [&] { return m_ringStop || m_ringJob.has_value(); });
      if (m_ringStop) return;
      job = std::move(*m_ringJob);
      m_ringJob.reset();
    }
    ParallelContext serial(1);
    RingOutput out = computeRingAnalysis(job, job.serial ? serial : *m_ringParallel);
    {
      std::lock_guard<std::mutex> lock(m_ringMutex);
      m_ringResult = std::move(out);
      m_ringBusy = false;
    }
    {
      // Wake the analysis thread so the result is published promptly.
      std::lock_guard<std::mutex> lock(m_mutex);
      m_dirty = true;
    }
    m_wake.notify_one();
  }
}

bool AnalysisEngine::dispatchRingJob() {
  const ParallelContext& parallel = analysisParallel();  // the one flushGramRows uses
  // Within a limited budget while training, one slice of Gram rows per call (the worker
  // may still be busy: it works on a copy of the Gram matrix); the job waits for the last.
  const auto slice = static_cast<std::size_t>(std::max(2, m_options.gramRowsPerSlice));
  if (m_liveBudget.active() && !m_liveBudget.unlimited() && m_gramPending.size() > slice) {
    const auto t0 = Clock::now();
    flushGramRows(slice);
    ++m_gramSlices;
    m_gramRefreshing = true;
    m_liveBudget.charge(secondsSince(t0) * parallel.threads(), Clock::now());
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(m_ringMutex);
    if (m_ringBusy || m_ringStop) return false;
    m_ringBusy = true;
  }
  m_gramRefreshing = false;
  const auto t0 = Clock::now();
  flushGramRows();
  m_liveBudget.charge(secondsSince(t0) * parallel.threads(), Clock::now());
  // Copies outside the lock: the worker is idle.
  RingJob job = makeRingJob(m_pathBudget.allows(Clock::now()));
  job.serial = &parallel == &m_serial;
  {
    std::lock_guard<std::mutex> lock(m_ringMutex);
    m_ringJob = std::move(job);
  }
  m_ringWake.notify_one();
  return true;
}

bool AnalysisEngine::collectRingResult() {
  std::optional<RingOutput> out;
  {
    std::lock_guard<std::mutex> lock(m_ringMutex);
    out.swap(m_ringResult);
  }
  if (!out) return false;
  // Charged by an upper bound of the CPU time: wall time x the worker's threads.
  const auto now = Clock::now();
  m_liveBudget.charge((out->seconds - out->pathSeconds) * out->threads, now);
  m_pathBudget.charge(out->pathSeconds * out->threads, now);
  if (out->generation != m_referenceGeneration) return false;  // stale reference
  m_ringAnalysis = std::move(out->analysis);
  m_ringAnalysisGeneration = out->generation;
  return true;
}

void AnalysisEngine::finalAnalysis() {
  if (m_ring.empty()) return;
  computeFunctionDistances(m_functionQueue.size());
  flushGramRows();
  RingOutput out = computeRingAnalysis(makeRingJob(true), m_parallel);
  m_ringAnalysis = std::move(out.analysis);
  m_ringAnalysisGeneration = out.generation;
  // The verdict needs the aligned distance of the last snapshot.
  if (out.newestAlignment &&
      std::as_const(m_distances).back().meta.index == m_ringAnalysis->pathSnapshot) {
    DistanceRecord& last = m_distances.back();
    last.aligned = out.newestAlignment->distance;
    last.alignedIdentity = out.newestAlignment->identityFraction;
  }
}

Verdict AnalysisEngine::makeVerdict() const {
  Verdict v;
  if (!m_baseline || m_distances.empty() || !(m_baseline->mean > 0.0)) return v;
  v.valid = true;
  const DistanceRecord& last = m_distances.back();
  v.ratioLast = last.d.distance / m_baseline->mean;
  for (std::size_t k = m_distances.size(); k-- > 0;) {
    if (m_distances[k].aligned) {
      v.ratioAlignedLast = *m_distances[k].aligned / m_baseline->mean;
      break;
    }
  }
  char buf[256];
  const double steps = static_cast<double>(last.meta.step - (m_distances.front().meta.step));
  std::snprintf(buf, sizeof buf,
                "After %.0f recorded steps SGD moved %.2f%% of the permutation distance", steps,
                100.0 * v.ratioLast);
  v.text = buf;
  if (v.ratioAlignedLast) {
    std::snprintf(buf, sizeof buf, " (aligned: %.2f%%)", 100.0 * *v.ratioAlignedLast);
    v.text += buf;
  }
  if (m_ringAnalysis && m_ringAnalysis->fit.valid) {
    const PowerLawFit& fit = m_ringAnalysis->fit;
    std::snprintf(buf, sizeof buf, "; MSD ~ tau^%.2f", fit.alpha);
    v.text += buf;
    const double lag = lagToReach(fit, m_baseline->mean * m_baseline->mean);
    if (std::isfinite(lag) && lag > 0) {
      v.lagToBaselineSteps = lag * m_options.recordEvery;
      std::snprintf(buf, sizeof buf, "; would reach the band after ~%.3g steps",
                    *v.lagToBaselineSteps);
      v.text += buf;
    }
  }
  return v;
}

void AnalysisEngine::publish() {
  auto s = std::make_shared<AnalysisState>();
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    s->phase = m_phase;
    s->metrics = m_metrics;
    s->batchLoss = m_batchLoss;
    s->lrHistory = m_lrHistory;
    s->progress = m_progress;
    s->recordingStartStep = m_recordingStart;
    s->message = m_message;
  }
  if (!m_analysisMessage.empty()) {
    s->message = s->message.empty() ? m_analysisMessage : s->message + "; " + m_analysisMessage;
  }
  s->version = ++m_version;
  s->distances = m_distances;
  s->function = m_function;
  s->pinned = m_pinned;
  if (m_ring.hasReference()) s->reference = m_ring.referenceMeta();
  s->baseline = m_baseline;
  s->ring = m_ringAnalysis;
  s->verdict = makeVerdict();
  s->snapshotsTaken = m_snapshotsTaken;
  s->snapshotsInRing = m_ring.size();
  s->ringBytes = m_ring.bytes();
  std::shared_ptr<const AnalysisState> previous = std::move(s);
  {
    const std::lock_guard lock(m_publishedMutex);
    m_published.swap(previous);
  }
  // `previous` (possibly the last owner of the old state) is released outside the lock.
}

}  // namespace driftscope
