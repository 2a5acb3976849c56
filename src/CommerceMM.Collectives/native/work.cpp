#include "work.h"

#include "error.h"

namespace cmm {

void Health::mark_broken(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (reason_.empty()) reason_ = reason;
}

void Health::throw_if_broken() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!reason_.empty())
    throw Failure(CMM_ERR_BROKEN, "process group is unusable after an earlier failure (" + reason_ +
                                      "); create a new group for the next generation");
}

bool Health::broken() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return !reason_.empty();
}

QueuedWork::QueuedWork(std::string what, std::function<void()> body, std::shared_ptr<Health> health)
    : what_(std::move(what)), body_(std::move(body)), health_(std::move(health)) {}

bool QueuedWork::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_ != State::Queued) return false;
  state_ = State::Running;
  return true;
}

void QueuedWork::finish(int32_t status, std::string message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (state_ == State::Done) return;
    state_ = State::Done;
    status_ = status;
    message_ = std::move(message);
  }
  done_.notify_all();
}

void QueuedWork::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!done_.wait_for(lock, timeout, [this] { return state_ == State::Done || state_ == State::Cancelled; })) {
    const std::string message = what_ + " did not complete within " + std::to_string(timeout.count()) +
                                " ms (a peer is dead, stalled or never called it)";
    lock.unlock();
    health_->mark_broken(message);
    throw Failure(CMM_ERR_TIMEOUT, message);
  }
  if (state_ == State::Cancelled) throw Failure(CMM_ERR_BROKEN, what_ + " was cancelled: its group was freed");
  if (status_ != CMM_OK) throw Failure(static_cast<cmm_status>(status_), message_);
}

void QueuedWork::release() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (state_ == State::Queued) state_ = State::Cancelled;
  // The collective writes into caller memory: never return while it may still do so.
  done_.wait(lock, [this] { return state_ != State::Running; });
}

SerialExecutor::SerialExecutor(std::shared_ptr<Health> health)
    : health_(std::move(health)), thread_([this] { run(); }) {}

SerialExecutor::~SerialExecutor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  thread_.join();
  for (auto& work : queue_) work->finish(CMM_ERR_BROKEN, work->what_ + " was cancelled: its group was freed");
}

void SerialExecutor::submit(const std::shared_ptr<QueuedWork>& work) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw Failure(CMM_ERR_BROKEN, "process group is being freed");
    queue_.push_back(work);
  }
  ready_.notify_one();
}

void SerialExecutor::run() {
  for (;;) {
    std::shared_ptr<QueuedWork> work;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    if (!work->start()) continue;  // cancelled: its handle was freed before it ran
    try {
      health_->throw_if_broken();
      work->body_();
      work->finish(CMM_OK, "");
    } catch (const Failure& f) {
      if (f.status != CMM_ERR_BROKEN && f.status != CMM_ERR_INVALID) health_->mark_broken(f.what());
      work->finish(f.status, f.what());
    } catch (const std::exception& e) {
      const Failure f = classify_collective_error(e, work->what_);
      health_->mark_broken(f.what());
      work->finish(f.status, f.what());
    } catch (...) {
      health_->mark_broken(work->what_ + ": unknown native exception");
      work->finish(CMM_ERR_INTERNAL, work->what_ + ": unknown native exception");
    }
  }
}

}  // namespace cmm
