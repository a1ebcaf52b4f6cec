#include "core/engine/cpu_budget.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>

namespace driftscope {
namespace {

using Clock = CpuBudget::Clock;
using std::chrono::milliseconds;

// A greedy worker on a simulated clock: every `tick` it starts a job of `cost` CPU-seconds
// whenever the budget allows one. Returns the CPU-seconds charged over `seconds`.
double greedyWork(CpuBudget& budget, double seconds, double cost, milliseconds tick) {
  const Clock::time_point t0{};
  budget.setActive(true, t0);
  double charged = 0.0;
  for (Clock::time_point t = t0; t < t0 + std::chrono::duration<double>(seconds); t += tick) {
    if (budget.allows(t)) {
      budget.charge(cost, t);
      charged += cost;
    }
  }
  return charged;
}

TEST(CpuBudget, DefaultNeverLimits) {
  CpuBudget b;
  EXPECT_TRUE(b.unlimited());
  const Clock::time_point t{};
  for (int k = 0; k < 1000; ++k) {
    b.charge(10.0, t);
    EXPECT_TRUE(b.allows(t));
  }
}

// Over T seconds the charged work is at most rate*T + burst + one job (the contract), and
// a greedy worker gets at least rate*T - one job (the budget does not starve it).
TEST(CpuBudget, GreedyWorkerGetsTheRateWithinOneJob) {
  for (const double cost : {0.002, 0.02, 0.3, 2.0}) {
    const double rate = 0.06;
    const double burst = 0.15;
    const double seconds = 600.0;
    CpuBudget b(rate, burst);
    const double charged = greedyWork(b, seconds, cost, milliseconds(10));
    EXPECT_LE(charged, rate * seconds + burst + cost) << cost;
    EXPECT_GE(charged, rate * seconds - cost - rate * 0.01) << cost;
  }
}

TEST(CpuBudget, DebtDelaysTheNextStart) {
  CpuBudget b(0.5, 0.1);
  const Clock::time_point t0{};
  b.setActive(true, t0);
  ASSERT_TRUE(b.allows(t0));
  b.charge(1.1, t0);  // credit 0.1 - 1.1 = -1.0: repaid after 2 s at 0.5/s
  EXPECT_FALSE(b.allows(t0 + milliseconds(1000)));
  EXPECT_FALSE(b.allows(t0 + milliseconds(1990)));
  EXPECT_TRUE(b.allows(t0 + milliseconds(2010)));
}

TEST(CpuBudget, CreditIsCappedAtTheBurst) {
  CpuBudget b(1.0, 0.5);
  const Clock::time_point t0{};
  b.setActive(true, t0);
  ASSERT_TRUE(b.allows(t0 + std::chrono::hours(1)));  // a long idle time saves only 0.5
  b.charge(0.6, t0 + std::chrono::hours(1));
  EXPECT_FALSE(b.allows(t0 + std::chrono::hours(1) + milliseconds(50)));
  EXPECT_TRUE(b.allows(t0 + std::chrono::hours(1) + milliseconds(150)));
}

TEST(CpuBudget, ZeroRateAllowsOnlyTheBurstWhileActive) {
  CpuBudget b(0.0, 0.0);
  const Clock::time_point t0{};
  b.setActive(true, t0);
  EXPECT_FALSE(b.allows(t0));
  EXPECT_FALSE(b.allows(t0 + std::chrono::hours(10)));
}

TEST(CpuBudget, InactiveAllowsEverythingAndChargesNothing) {
  CpuBudget b(0.0, 0.2);
  const Clock::time_point t0{};
  b.setActive(true, t0);
  b.charge(5.0, t0);
  EXPECT_FALSE(b.allows(t0 + milliseconds(10)));
  b.setActive(false, t0 + milliseconds(20));  // paused
  EXPECT_TRUE(b.allows(t0 + milliseconds(30)));
  b.charge(100.0, t0 + milliseconds(40));  // not counted
  EXPECT_TRUE(b.allows(t0 + milliseconds(50)));
  b.setActive(true, t0 + milliseconds(60));  // resumed: the debt is forgiven, burst again
  EXPECT_TRUE(b.allows(t0 + milliseconds(70)));
  EXPECT_DOUBLE_EQ(b.credit(), 0.2);
}

}  // namespace
}  // namespace driftscope
