// AnalysisEngine: turns the stream of weight snapshots of a run into the analyses of
// design.md, on its own thread (TBB inside), and publishes immutable AnalysisState
// values by swapping a shared_ptr under a short lock.
//
// Producer side (the trainer thread): submitSnapshot copies the weights into a pending
// buffer and returns; it waits only if kMaxPending snapshots are already queued
// (backpressure instead of silent loss). Epoch metrics, progress, learning-rate changes
// and the phase are handed over the same way and cost a short lock.
// Analysis thread: per snapshot: ring push, distance breakdown, the aligned distance every
// `alignEvery` snapshots, and the function-space distance (a forward pass of the
// evaluation subset, or none when the producer hands over the snapshot's logits:
// submitFunctionOutputs) through a queue that advances, oldest first, within the live budget.
// The Gram rows of new snapshots (O(C·P) each) are computed together, in one pass over
// the ring, before each ring analysis; while training runs within a limited budget, a
// slice of `gramRowsPerSlice` rows at a time (newest first, each charged), the thread
// taking new snapshots between slices, and the ring job waits until no row is left. A
// refresh starts when the budget allows a ring analysis and then runs to its end (its
// cost is a debt the budget pays back before the next one). One pass for hundreds of rows
// took seconds of CPU at the lower priority, long enough for kMaxPending snapshots to
// queue and the trainer to wait (docs/benchmarks.md, session 12).
// Ring worker thread: the expensive ring analyses (heatmap, PCA, MSD fit, alignment of
// the newest snapshot, linear path) on a copy of what they need (C x C Gram, reference,
// newest snapshot), at most every `fullAnalysisSeconds`; snapshots never wait for them,
// and a full queue never starves them. The final analysis (finish) runs inline.
// Live budget: while training runs, the function-space distances and ring analyses draw
// on one CpuBudget and the linear path (the costliest: pathPoints x 2 forward passes of
// the evaluation subset) on another, each at half of options.liveRate(), so watching a
// run costs it a few percent (docs/benchmarks.md). A ring analysis the path budget cannot
// afford keeps the previous path (its endpoint is AnalysisState::ring->pathSnapshot).
// Paused or finished, the budgets do not limit. While training runs on every core, the
// analysis and ring threads run their loops alone (not in their TBB arenas: the TBB
// workers those would borrow are the trainer's, lost to it for as long as a loop runs)
// and at a lower OS priority (lowerCurrentThreadPriority: a training thread that wakes
// runs at once). A queued function distance is computed at
// the latest when its snapshot is about to leave the ring, and the final analysis, exports
// and session saves (runWithRing) empty the queue first: the recorded series are complete
// and the same whatever the timing; only how fresh the live views are depends on it.
// Publication at most every ~30 ms, only when something changed.
// Readers: latest() from any thread; it only copies a shared_ptr under m_publishedMutex
// (never held while a state is built or destroyed). Not std::atomic<std::shared_ptr>:
// libstdc++ 12 unlocks it with a relaxed store in load(), so a load's read of the pointer
// and the next store's write are not ordered (ThreadSanitizer reports it; see
// docs/reliability.md). ring() only after finish()/stop(), and not while a late pin or
// reference request is served (the CLI makes none; the window reads through runWithRing).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/analysis/alignment.h"
#include "core/analysis/distance_matrix.h"
#include "core/analysis/function_distance.h"
#include "core/config/run_config.h"
#include "core/engine/analysis_state.h"
#include "core/engine/cpu_budget.h"
#include "core/parallel.h"

namespace driftscope {

struct AnalysisOptions {
  int capacity = 500;
  int baselineSamples = 200;
  std::uint64_t seed = 1;
  int alignEvery = 10;
  int pathPoints = 21;
  int msdLagMin = 1;
  int msdLagMax = 0;  // 0: a quarter of the ring
  int recordEvery = 1;
  int threads = 1;
  double fullAnalysisSeconds = 0.5;
  // Gram rows per slice while training runs within a limited budget (see the class
  // comment), at least 2: 4 rows of 784-256-256-10 against a full ring of 500 take
  // ~35 ms of CPU.
  int gramRowsPerSlice = 4;
  // While training runs, the optional live analyses (function-space distance per snapshot,
  // the ring analyses, the linear path) may use this share of the training threads' CPU
  // time, plus any core training leaves idle (see liveRate()); >= 1: no limit; 0: none
  // (only when paused and at the end). Deferred work is caught up when training pauses
  // or ends and before exports (see CpuBudget). 0.01 (was 0.03): 784-256-256-10 on both
  // cores of a 2-core machine at a full ring of 500, 5 interleaved rounds: 0.03 cost
  // training a median 8.8% (pooled 10.1%), 0.01 6.7% (5.1%); what the analyses read and
  // write also pushes the training data out of the shared caches (docs/benchmarks.md,
  // session 11).
  double liveShare = 0.01;
  int hardwareThreads = 0;  // 0: ParallelContext::hardwareThreads()
  // Snapshots this many steps after recording started are pinned automatically as extra
  // references (aging); at most kMaxPinned references in all.
  std::vector<std::int64_t> pinAfterSteps;
  static constexpr int kMaxPinned = 4;
  double deadUnitTolerance = 1e-6;

  static AnalysisOptions fromConfig(const RunConfig& c);
  // CPU-seconds per wall-second the live analyses may use while training runs:
  // liveShare * threads + the cores the trainer leaves idle; 0 when liveShare is 0;
  // +inf when liveShare >= 1.
  double liveRate() const;
  // Hardware threads the trainer leaves idle.
  int idleCores() const;
};

class AnalysisEngine {
 public:
  static constexpr int kMaxPending = 16;

  // `evalInputs`/`evalLabels` (a fixed subset of the test set) must outlive the engine.
  AnalysisEngine(Mlp mlp, AnalysisOptions options, const Eigen::Ref<const RowMatrix>& evalInputs,
                 std::span<const std::uint8_t> evalLabels);
  ~AnalysisEngine();
  AnalysisEngine(const AnalysisEngine&) = delete;
  AnalysisEngine& operator=(const AnalysisEngine&) = delete;

  void start();
  // Drains pending snapshots, runs a final full analysis (aligning the last snapshot),
  // publishes, and joins the thread.
  void finish();
  // Abandons pending work and joins within one snapshot's processing.
  void stop();

  // Producer API (any thread).
  // outputsFollow: submitFunctionOutputs(meta.step, ...) will follow for this snapshot
  // (Experiment: a snapshot at the end of an epoch, whose weights the trainer evaluates
  // next); its function distance waits for them instead of running a forward pass of the
  // evaluation subset, unless it is due earlier (the ring drops it, pause, finish).
  void submitSnapshot(const float* params, const SnapshotMeta& meta, bool outputsFollow = false);
  // Logits of the snapshot taken at `step` on the evaluation inputs, as
  // Mlp::logitsInChunks computes them (Trainer::testLogits); ignored unless their shape is
  // [evaluation inputs, outputs]. Either route gives the same function distance, bit for bit.
  void submitFunctionOutputs(std::int64_t step, const RowMatrix& logits);
  void submitEpoch(const EpochMetrics& m);
  void submitBatchLoss(const BatchLossPoint& p);
  void submitProgress(const TrainProgress& p);
  void submitLearningRateChange(const LrChange& c);
  void setPhase(RunPhase phase, const std::string& message = {});
  void setRecordingStart(std::int64_t step);
  // Makes snapshot `index` the reference (must still be in the ring); every analysis
  // follows. Asynchronous; the outcome shows in latest()->message. After finish() the
  // request is served on a short-lived worker thread (a fresh final analysis, published);
  // after stop() it is dropped.
  void requestReference(int snapshotIndex);
  // Pins snapshot `index` (still in the ring) as an extra reference: from then on every
  // snapshot also gets d(w_pin, w_M) against its lag since the pin. Asynchronous, served
  // after finish() like requestReference().
  void pinReference(int snapshotIndex);

  // Runs `fn` with the ring and a state whose ring analyses were computed from exactly
  // that ring (a fresh full analysis, published first): on the analysis thread while it
  // runs (between two snapshots; training continues until the queue is full), otherwise
  // inline on the caller. For exports and session saves; fn must not call back into the
  // engine. Returns at once when the thread runs. A task still queued when the engine is
  // stopped is called with a null state (cancelled).
  using RingTask = std::function<void(const SnapshotRing&, std::shared_ptr<const AnalysisState>)>;
  void runWithRing(RingTask fn);

  std::shared_ptr<const AnalysisState> latest() const {
    const std::lock_guard lock(m_publishedMutex);
    return m_published;
  }
  const SnapshotRing& ring() const { return m_ring; }  // only when the thread is not running
  const Mlp& mlp() const { return m_mlp; }
  const AnalysisOptions& options() const { return m_options; }
  // Forward passes of the evaluation subset run for function distances so far (references
  // included); the rest came from submitted outputs. For tests and benchmarks.
  int functionForwardPasses() const { return m_functionForwardPasses.load(); }
  // Slices of Gram rows computed while training (gramRowsPerSlice). For tests.
  int gramSlices() const { return m_gramSlices.load(); }

 private:
  struct Pending {
    Vector params;
    SnapshotMeta meta;
    bool outputsFollow = false;
  };
  struct QueuedFunction {
    SnapshotMeta meta;
    bool outputsFollow = false;  // wait for submitFunctionOutputs while training runs
  };
  // Inputs of the ring analyses, copied so the ring worker shares nothing mutable.
  struct RingJob {
    std::vector<SnapshotMeta> snapshots;  // chronological
    MatrixD gram;                         // of (snapshot - reference)
    Vector reference;
    Vector newest;
    int generation = 0;  // m_referenceGeneration when the job was made
    bool withPath = true;  // otherwise the previous path is kept
    bool serial = false;   // run its loops on the ring thread alone (analysisParallel())
    PathResult previousPath;
    int previousPathSnapshot = -1;
  };
  struct RingOutput {
    std::shared_ptr<const RingAnalysis> analysis;
    std::optional<AlignmentResult> newestAlignment;  // computed with the path
    int generation = 0;
    double seconds = 0.0;      // wall time of the whole job
    double pathSeconds = 0.0;  // of which the alignment and the path
    int threads = 1;
  };

  void threadMain();
  void processSnapshot(const Pending& p);
  DistanceRecord measure(const float* w, const SnapshotMeta& meta, bool align);
  // resetGram: anchor the (emptied) heatmap Gram matrix at w; false when the caller has
  // already moved it there (changeReference).
  void adoptReference(const float* w, const SnapshotMeta& meta, bool resetGram = true);
  void changeReference(int snapshotIndex);
  void pin(int slot);
  void pinByIndex(int snapshotIndex);  // pin(slot), or a message if it left the ring
  RingJob makeRingJob(bool withPath) const;
  // The function distances of the first `count` queued snapshots, in order (parallel).
  void computeFunctionDistances(std::size_t count);
  bool advanceFunctionQueue();  // within the live budget; true when some were computed
  // Queued snapshots whose function distance can run now: all but a newest one whose
  // outputs are still on their way while training runs.
  std::size_t functionQueueReady() const;
  void flushGramRows();
  // The newest `maxRows` waiting Gram rows (all when fewer wait).
  void flushGramRows(std::size_t maxRows);
  void updateBudgets(RunPhase phase);
  RingOutput computeRingAnalysis(const RingJob& job, ParallelContext& parallel) const;
  void finalAnalysis();
  bool applyRequests();  // pins and a reference change taken from the queue; false: none
  void serveLateRequests();
  void stopRingWorker();
  void joinAnalysisThread();
  static void runTask(RingTask& task, const SnapshotRing& ring,
                      std::shared_ptr<const AnalysisState> state);
  void ringWorkerMain();
  // false when the worker is still busy or Gram rows still wait (a slice was computed)
  bool dispatchRingJob();
  bool collectRingResult();  // true when a new result was adopted
  void publish();
  Verdict makeVerdict() const;
  // The analysis thread's loops: m_serial while training runs on every core (see the
  // header comment), else m_parallel.
  ParallelContext& analysisParallel();

  Mlp m_mlp;
  AnalysisOptions m_options;
  Eigen::Ref<const RowMatrix> m_evalInputs;
  std::span<const std::uint8_t> m_evalLabels;
  ParallelContext m_parallel;
  ParallelContext m_serial{1};

  // Shared with producers, under m_mutex.
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::condition_variable m_spaceFree;
  std::deque<Pending> m_pending;
  std::vector<Vector> m_freeBuffers;
  std::vector<EpochMetrics> m_metrics;
  ChunkedSeries<BatchLossPoint> m_batchLoss;
  std::vector<LrChange> m_lrHistory;
  TrainProgress m_progress;
  RunPhase m_phase = RunPhase::kIdle;
  std::string m_message;
  std::optional<std::int64_t> m_recordingStart;
  int m_referenceRequest = -1;
  std::vector<int> m_pinRequests;
  std::vector<RingTask> m_ringTasks;
  std::vector<std::pair<std::int64_t, RowMatrix>> m_outputsInbox;  // submitFunctionOutputs
  bool m_dirty = false;
  bool m_finishRequested = false;
  bool m_stopRequested = false;

  // Owned by the analysis thread (or the caller when no thread runs).
  SnapshotRing m_ring;
  DistanceMatrix m_gram;
  std::vector<int> m_gramPending;  // ring slots written since their Gram row was computed
  bool m_gramRefreshing = false;   // slices of m_gramPending under way (dispatchRingJob)
  FunctionReference m_functionRef;
  MlpWorkspace m_workspace;
  std::shared_ptr<const BaselineBand> m_baseline;
  std::shared_ptr<const RingAnalysis> m_ringAnalysis;
  int m_ringAnalysisGeneration = -1;  // m_referenceGeneration it was computed for
  ChunkedSeries<DistanceRecord> m_distances;
  ChunkedSeries<FunctionRecord> m_function;
  std::vector<PinnedCurve> m_pinned;
  std::vector<Vector> m_pinnedWeights;  // parallel to m_pinned
  std::size_t m_nextAutoPin = 0;        // into options.pinAfterSteps
  int m_snapshotsTaken = 0;
  std::int64_t m_firstSnapshotStep = 0;
  int m_referenceGeneration = 0;  // bumped when the reference changes
  std::string m_analysisMessage;
  std::uint64_t m_version = 0;
  CpuBudget m_liveBudget;  // function distances, ring analyses
  CpuBudget m_pathBudget;  // linear path (and the newest snapshot's alignment)
  std::deque<QueuedFunction> m_functionQueue;  // snapshots awaiting their function distance
  std::map<std::int64_t, RowMatrix> m_functionOutputs;  // by step, from m_outputsInbox
  std::atomic<int> m_functionForwardPasses{0};
  std::atomic<int> m_gramSlices{0};

  // Ring worker: one job at a time, under m_ringMutex.
  std::mutex m_ringMutex;
  std::condition_variable m_ringWake;
  std::optional<RingJob> m_ringJob;
  std::optional<RingOutput> m_ringResult;
  bool m_ringBusy = false;
  bool m_ringStop = false;
  std::unique_ptr<ParallelContext> m_ringParallel;
  std::thread m_ringThread;

  mutable std::mutex m_publishedMutex;
  std::shared_ptr<const AnalysisState> m_published;  // under m_publishedMutex
  std::thread m_thread;
  std::atomic<bool> m_started{false};  // start() was called
  std::atomic<bool> m_running{false};  // the analysis thread may still consume work
  std::mutex m_threadJoinMutex;
  std::mutex m_inlineTaskMutex;
  std::mutex m_ringJoinMutex;
  // Requests after the analysis thread ended, under m_lateMutex.
  std::mutex m_lateMutex;
  std::thread m_lateThread;
  bool m_lateBusy = false;
};

}  // namespace driftscope
