// In-flight collectives: what cmm_work handles point to, and the per-group thread that runs Gloo
// collectives one at a time in submission order. Every rank submits the same collectives in the
// same order, so a single queue per group keeps concurrent callers (several gradient buckets in
// flight, a backward all-gather) matched across ranks without tags or slots.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cmm_collectives.h"

namespace cmm {

// A group's health. The first failure of any collective leaves the ranks out of step, so every later
// collective is refused with that first message instead of hanging or returning wrong data.
class Health {
 public:
  void mark_broken(const std::string& reason);
  // Throws Failure(CMM_ERR_BROKEN) naming the first failure, if there was one.
  void throw_if_broken() const;
  bool broken() const;

 private:
  mutable std::mutex mutex_;
  std::string reason_;
};

// What the C ABI's cmm_work points to.
class Work {
 public:
  virtual ~Work() = default;
  // Throws Failure on error or when timeout passes first.
  virtual void wait(std::chrono::milliseconds timeout) = 0;
  // Called when the handle is freed: afterwards the collective never touches its buffers again.
  virtual void release() = 0;
};

// One collective queued on a SerialExecutor.
class QueuedWork : public Work {
 public:
  QueuedWork(std::string what, std::function<void()> body, std::shared_ptr<Health> health);
  // Waits for completion; if it does not finish in time the group is marked broken (ranks are out of step).
  void wait(std::chrono::milliseconds timeout) override;
  // Cancels it if still queued, else blocks until it no longer touches its buffers.
  void release() override;

 private:
  friend class SerialExecutor;
  enum class State { Queued, Running, Done, Cancelled };
  bool start();                          // executor: Queued -> Running, false if cancelled
  void finish(int32_t status, std::string message);

  const std::string what_;
  std::function<void()> body_;
  std::shared_ptr<Health> health_;
  std::mutex mutex_;
  std::condition_variable done_;
  State state_ = State::Queued;
  int32_t status_ = CMM_OK;
  std::string message_;
};

class SerialExecutor {
 public:
  explicit SerialExecutor(std::shared_ptr<Health> health);
  // Fails what is still queued and joins the thread (after the running collective ends).
  ~SerialExecutor();
  void submit(const std::shared_ptr<QueuedWork>& work);

 private:
  void run();

  std::shared_ptr<Health> health_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<QueuedWork>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cmm
