// Checks that scripts/tsan.supp and the happens-before annotations (core/parallel.cpp,
// ui/queued_call.h) do not hide real races: each mode below contains one deliberate data
// race of the kind they could plausibly hide, and the tsan preset registers every mode
// as a test that passes only if ThreadSanitizer reports it (tests/CMakeLists.txt).
// Built only in the tsan preset; run by hand: tsan_suppressions_check <mode>.
#include <QCoreApplication>
#include <QObject>
#include <QTimer>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "core/parallel.h"
#include "ui/queued_call.h"

namespace {

using namespace std::chrono_literals;

// Sleeps keep each call long enough that both threads of the context take part. The
// races are plain ints; volatile keeps the compiler from merging the accesses.
volatile int g_shared = 0;

// Two calls of one parallel loop write the same variable.
int loopBodies() {
  driftscope::ParallelContext parallel(2);
  parallel.forEach(64, [](int i) {
    std::this_thread::sleep_for(1ms);
    g_shared = g_shared + i;
  });
  return 0;
}

// A loop body writes what an unrelated thread reads.
int loopBodyAndThread() {
  driftscope::ParallelContext parallel(2);
  std::thread reader([] {
    for (int k = 0; k < 50 && g_shared == 0; ++k) std::this_thread::sleep_for(1ms);
  });
  parallel.forEach(16, [](int i) {
    std::this_thread::sleep_for(1ms);
    if (i == 15) g_shared = 1;
  });
  reader.join();
  return 0;
}

// The worker writes after posting, so the queued call's read is unordered with it:
// QueuedCall orders only what happened before the post.
int queuedCallAfterPost(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QObject receiver;
  std::atomic<bool> done{false};
  std::thread worker([&receiver, &done] {
    driftscope::ui::postQueued(&receiver, [&done] {
      std::printf("%d\n", g_shared);
      done = true;
    });
    g_shared = 2;
  });
  while (!done) QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
  worker.join();
  return 0;
}

// Our code called from Qt's event loop (a timer) races with a plain thread: Qt frames
// below our frames on the stack must not hide it.
int slotAndThread(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  std::thread writer([] { g_shared = 3; });
  QTimer::singleShot(20, &app, [] {
    std::printf("%d\n", g_shared);
    QCoreApplication::quit();
  });
  const int rc = QCoreApplication::exec();
  writer.join();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (std::strcmp(mode, "loop-bodies") == 0) return loopBodies();
  if (std::strcmp(mode, "loop-body-and-thread") == 0) return loopBodyAndThread();
  if (std::strcmp(mode, "queued-call-after-post") == 0) return queuedCallAfterPost(argc, argv);
  if (std::strcmp(mode, "slot-and-thread") == 0) return slotAndThread(argc, argv);
  std::fprintf(stderr,
               "usage: %s loop-bodies|loop-body-and-thread|queued-call-after-post|"
               "slot-and-thread\n",
               argv[0]);
  return 2;
}
