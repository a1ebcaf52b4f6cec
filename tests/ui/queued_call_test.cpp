#include "ui/queued_call.h"

#include <gtest/gtest.h>

#include <QObject>
#include <QThread>
#include <memory>
#include <thread>
#include <vector>

#include "tests/ui/widget_test_support.h"

namespace driftscope::ui {
namespace {

// What a worker hands over: built by the worker, read on the GUI thread afterwards with
// no lock, as RunController's results are.
struct Payload {
  int sequence = 0;
  std::vector<int> values;
};

TEST(QueuedCall, RunsOnTheReceiversThreadInPostingOrderWithWhatTheWorkerBuilt) {
  constexpr int kPosts = 200;
  QObject receiver;
  std::vector<int> seen;  // GUI thread only
  bool wrongThread = false;
  std::thread worker([&receiver, &seen, &wrongThread] {
    for (int k = 0; k < kPosts; ++k) {
      auto payload = std::make_shared<Payload>();
      payload->sequence = k;
      payload->values.assign(static_cast<std::size_t>(k % 7 + 1), k);
      postQueued(&receiver, [&receiver, &seen, &wrongThread, payload] {
        if (QThread::currentThread() != receiver.thread()) wrongThread = true;
        for (int v : payload->values) EXPECT_EQ(v, payload->sequence);
        seen.push_back(payload->sequence);
      });
    }
  });
  worker.join();
  ASSERT_TRUE(
      testing::waitFor([&] { return seen.size() == static_cast<std::size_t>(kPosts); }, 60000));
  EXPECT_FALSE(wrongThread);
  for (int k = 0; k < kPosts; ++k) EXPECT_EQ(seen[static_cast<std::size_t>(k)], k);
}

TEST(QueuedCall, IsDestroyedWithoutBeingCalledWhenTheReceiverGoesFirst) {
  auto receiver = std::make_unique<QObject>();
  auto token = std::make_shared<int>(0);
  bool called = false;
  std::thread worker(
      [r = receiver.get(), token, &called] { postQueued(r, [token, &called] { called = true; }); });
  worker.join();
  EXPECT_EQ(token.use_count(), 2);  // the queued functor still holds its copy
  receiver.reset();                 // before the event loop ran
  EXPECT_EQ(token.use_count(), 1);
  QTest::qWait(20);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace driftscope::ui
