// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with
// clang's thread-safety annotations, in the manner of leveldb's port/. Members
// say which mutex guards them (`int m_count GUARDED_BY(m_mutex);`) and
// functions say what they need held (`void take() REQUIRES(m_mutex);`); clang's
// -Wthread-safety (scripts/lint) then checks every access at compile time.
// GCC ignores the annotations.
//
// Waiting is written as a loop in the function that holds the lock
// (`while (!ready) m_wake.wait(m_mutex);`), not as a predicate lambda: the
// analysis cannot see that a lambda runs under the caller's lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define GAPWATCH_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define GAPWATCH_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) GAPWATCH_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY GAPWATCH_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) GAPWATCH_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) GAPWATCH_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) GAPWATCH_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) GAPWATCH_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) GAPWATCH_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define EXCLUDES(...) GAPWATCH_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) GAPWATCH_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) GAPWATCH_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS GAPWATCH_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace gapwatch {

class CondVar;

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { m_mutex.lock(); }
  void unlock() RELEASE() { m_mutex.unlock(); }
  // Tells the analysis the caller holds this mutex where it cannot see it.
  void assert_held() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex m_mutex;
};

// Holds a Mutex for the scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) : m_mutex(mutex) { m_mutex.lock(); }
  ~MutexLock() RELEASE() { m_mutex.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& m_mutex;
};

// A condition variable waited on with a Mutex held. Every wait may wake
// spuriously: callers loop on their condition.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void wait(Mutex& mutex) REQUIRES(mutex) {
    std::unique_lock<std::mutex> lock(mutex.m_mutex, std::adopt_lock);
    m_condition.wait(lock);
    lock.release();
  }
  // False if the deadline passed.
  template <class Clock, class Duration>
  bool wait_until(Mutex& mutex, const std::chrono::time_point<Clock, Duration>& deadline)
      REQUIRES(mutex) {
    std::unique_lock<std::mutex> lock(mutex.m_mutex, std::adopt_lock);
    const bool woken = m_condition.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  template <class Rep, class Period>
  bool wait_for(Mutex& mutex, const std::chrono::duration<Rep, Period>& timeout) REQUIRES(mutex) {
    return wait_until(mutex, std::chrono::steady_clock::now() + timeout);
  }
  void notify_one() { m_condition.notify_one(); }
  void notify_all() { m_condition.notify_all(); }

 private:
  std::condition_variable m_condition;
};

}  // namespace gapwatch
