// postQueued(receiver, fn): runs fn() later on the receiver's thread through Qt's event
// queue (QMetaObject::invokeMethod with Qt::QueuedConnection); if the receiver is
// destroyed first, fn is destroyed without being called. The way worker threads hand
// results to the GUI thread (RunController).
//
// Qt orders everything the posting thread did before the post before the delivery: the
// receiving thread's list of posted events is guarded by a QMutex. Debian's Qt is not
// built with ThreadSanitizer and that QMutex is a futex TSan cannot see, so without help
// TSan reports every hand-off as a data race on the functor's captures (and on whatever
// the captures point to). QueuedCall tells TSan about that one ordering
// (core/happens_before.h): its move constructor is the last write of the posting thread
// into the slot object Qt queues (the base QSlotObjectBase fields are written before it),
// and both the call and the destructor begin by acquiring. The call also releases when it
// ends: the slot object is reference-counted, and when the receiving thread runs the call
// before invokeMethod has returned on the posting thread, the posting thread drops the
// last reference and destroys the functor after the call read it (an atomic inside Qt
// orders the two; TSan does not see it). In builds without TSan it is a plain wrapper.
#pragma once

#include <QMetaObject>
#include <QObject>
#include <type_traits>
#include <utility>

#include "core/happens_before.h"

namespace driftscope::ui {

template <typename Fn>
class QueuedCall {
 public:
  explicit QueuedCall(Fn fn) : m_fn(std::move(fn)) { happensBefore(this); }
  QueuedCall(QueuedCall&& other) noexcept : m_fn(std::move(other.m_fn)) { happensBefore(this); }
  QueuedCall(const QueuedCall&) = delete;
  QueuedCall& operator=(const QueuedCall&) = delete;
  QueuedCall& operator=(QueuedCall&&) = delete;
  ~QueuedCall() { happensAfter(this); }

  void operator()() {
    happensAfter(this);
    m_fn();
    happensBefore(this);  // for a destructor on the posting thread
  }

 private:
  Fn m_fn;
};

template <typename Fn>
void postQueued(QObject* receiver, Fn&& fn) {
  QMetaObject::invokeMethod(receiver, QueuedCall<std::decay_t<Fn>>(std::forward<Fn>(fn)),
                            Qt::QueuedConnection);
}

}  // namespace driftscope::ui
