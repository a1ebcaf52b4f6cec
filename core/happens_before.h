// Happens-before annotations for ThreadSanitizer, for orderings a library guarantees but
// TSan cannot see because the library is not instrumented (Debian's oneTBB and Qt: their
// task hand-off, waits and event queue run on atomics and futexes inside the .so).
// happensBefore(token) on one thread and a later happensAfter(token) on another make TSan
// order everything the first thread did before the call before everything the second
// does after it, exactly like a release store and an acquire load of one atomic.
// Contract: use them only where the library really provides that ordering, and say which
// guarantee at the call site; an annotation that claims more hides real races. The token
// is any address that both sides can compute without reading shared memory.
// In builds without TSan both are empty inline functions.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define DRIFTSCOPE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DRIFTSCOPE_TSAN 1
#endif
#endif

#ifdef DRIFTSCOPE_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace driftscope {

inline void happensBefore([[maybe_unused]] const void* token) {
#ifdef DRIFTSCOPE_TSAN
  __tsan_release(const_cast<void*>(token));
#endif
}

inline void happensAfter([[maybe_unused]] const void* token) {
#ifdef DRIFTSCOPE_TSAN
  __tsan_acquire(const_cast<void*>(token));
#endif
}

}  // namespace driftscope
