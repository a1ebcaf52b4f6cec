// CpuBudget: a token bucket that keeps optional background work (the live analyses) to a
// share of the machine while training runs, so watching a run does not slow it down.
//
// Credit grows at `rate` CPU-seconds per wall-second, up to `burst` CPU-seconds. Work may
// START while the credit is positive; it is charged afterwards with what it cost and may
// leave the credit negative (a debt paid back before the next start). Hence over any wall
// interval T the work started in it costs at most rate*T + burst + one job's cost.
// Inactive (training paused or over): every start is allowed and nothing is charged; the
// credit is full again when the budget turns active. rate = +inf: never limits.
// Times are passed in (no clock inside) so tests can drive it. Not synchronised: one
// thread owns a budget.
#pragma once

#include <algorithm>
#include <chrono>
#include <limits>

namespace driftscope {

class CpuBudget {
 public:
  using Clock = std::chrono::steady_clock;

  CpuBudget() = default;  // unlimited
  CpuBudget(double rate, double burst) : m_rate(rate), m_burst(burst), m_credit(burst) {}

  bool unlimited() const { return !(m_rate < std::numeric_limits<double>::infinity()); }
  double credit() const { return m_credit; }

  bool allows(Clock::time_point now) {
    if (!m_active || unlimited()) return true;
    refill(now);
    return m_credit > 0.0;
  }

  void charge(double cpuSeconds, Clock::time_point now) {
    if (!m_active || unlimited()) return;
    refill(now);
    m_credit -= cpuSeconds;
  }

  void setActive(bool active, Clock::time_point now) {
    if (active && !m_active) m_credit = m_burst;
    m_active = active;
    m_last = now;
    m_started = true;
  }
  bool active() const { return m_active; }

 private:
  void refill(Clock::time_point now) {
    if (!m_started) {
      m_last = now;
      m_started = true;
      return;
    }
    const double elapsed = std::chrono::duration<double>(now - m_last).count();
    if (elapsed > 0.0) {
      m_credit = std::min(m_burst, m_credit + m_rate * elapsed);
      m_last = now;
    }
  }

  double m_rate = std::numeric_limits<double>::infinity();
  double m_burst = 0.0;
  double m_credit = 0.0;
  Clock::time_point m_last{};
  bool m_active = true;
  bool m_started = false;
};

}  // namespace driftscope
