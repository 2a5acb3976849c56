// Gloo over TCP for host memory. Collectives run on the group's own thread, one at a time, in
// submission order (work.h); the caller's thread only queues and waits.
#include <gloo/allgatherv.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/rendezvous/context.h>
#include <gloo/transport/tcp/device.h>

#include <cstring>

#include "callback_store.h"
#include "dtype.h"
#include "error.h"
#include "group.h"

namespace cmm {
namespace {

// Calls f with a value of the C++ type whose size matches dtype (Gloo's options are typed by size).
template <typename F>
void with_type(int32_t dtype, F&& f) {
  switch (dtype) {
    case CMM_FLOAT32: return f(float{});
    case CMM_FLOAT64: return f(double{});
    case CMM_INT64: return f(int64_t{});
    case CMM_INT32: return f(int32_t{});
    case CMM_BFLOAT16: return f(BFloat16{});
  }
  element_size(dtype);  // throws naming the code
}

class GlooGroup : public Group {
 public:
  GlooGroup(int rank, int size, std::shared_ptr<gloo::rendezvous::Context> context)
      : Group(rank, size), context_(std::move(context)), health_(std::make_shared<Health>()),
        executor_(std::make_unique<SerialExecutor>(health_)) {}

  ~GlooGroup() override { executor_.reset(); }  // join the thread before the context goes

  std::shared_ptr<Work> allreduce_async(const std::vector<Buffer>& buffers, int32_t op, Millis timeout) override {
    std::vector<ReduceFn> reduce;
    for (const auto& b : buffers) {
      reduce.push_back(reduce_function(b.dtype, op));
      if (op == CMM_AVERAGE && !is_floating(b.dtype))
        invalid(std::string("average of ") + dtype_name(b.dtype) + " buffers is not exact; all-reduce with sum and divide instead");
    }
    return submit("all_reduce", [this, buffers, reduce, op, timeout] {
      for (size_t i = 0; i < buffers.size(); ++i) allreduce_one(buffers[i], reduce[i], op, timeout);
    });
  }

  void broadcast(const Buffer& buffer, int root, Millis timeout) override {
    if (root < 0 || root >= size)
      invalid("broadcast root " + std::to_string(root) + " is not a rank of this group (size " + std::to_string(size) + ")");
    run("broadcast", timeout, [this, buffer, root, timeout] {
      if (size == 1 || buffer.elements == 0) return;
      gloo::BroadcastOptions opts(context_);
      with_type(buffer.dtype, [&](auto t) { opts.setOutput(static_cast<decltype(t)*>(buffer.data), buffer.elements); });
      opts.setRoot(root);
      opts.setTag(next_tag());
      opts.setTimeout(timeout);
      gloo::broadcast(opts);
    });
  }

  void allgather(const void* input, const Buffer& per_rank, void* output, Millis timeout) override {
    allgatherv(input, std::vector<int64_t>(size, per_rank.elements), per_rank.dtype, output, timeout);
  }

  void allgatherv(const void* input, const std::vector<int64_t>& counts, int32_t dtype, void* output,
                  Millis timeout) override {
    const size_t bytes = element_size(dtype);
    int64_t total = 0;
    for (int r = 0; r < size; ++r) {
      if (counts[r] < 0) invalid("all_gather count of rank " + std::to_string(r) + " is negative: " + std::to_string(counts[r]));
      total += counts[r];
    }
    run("all_gather", timeout, [=] {
      if (total == 0) return;
      if (size == 1) {
        if (output != input) std::memmove(output, input, static_cast<size_t>(counts[0]) * bytes);
        return;
      }
      gloo::AllgathervOptions opts(context_);
      std::vector<size_t> elements(counts.begin(), counts.end());
      with_type(dtype, [&](auto t) {
        using T = decltype(t);
        opts.setInput(const_cast<T*>(static_cast<const T*>(input)), static_cast<size_t>(counts[rank]));
        opts.setOutput(static_cast<T*>(output), elements);
      });
      opts.setTag(next_tag());
      opts.setTimeout(timeout);
      gloo::allgatherv(opts);
    });
  }

  void barrier(Millis timeout) override {
    run("barrier", timeout, [this, timeout] {
      if (size == 1) return;
      gloo::BarrierOptions opts(context_);
      opts.setTag(next_tag());
      opts.setTimeout(timeout);
      gloo::barrier(opts);
    });
  }

 private:
  void allreduce_one(const Buffer& b, ReduceFn reduce, int32_t op, Millis timeout) {
    if (b.elements == 0) return;
    if (size > 1) {
      gloo::AllreduceOptions opts(context_);
      with_type(b.dtype, [&](auto t) { opts.setOutput(static_cast<decltype(t)*>(b.data), static_cast<size_t>(b.elements)); });
      opts.setReduceFunction(reduce);
      opts.setTag(next_tag());
      opts.setTimeout(timeout);
      gloo::allreduce(opts);
    }
    // Gloo has no average: sum, then divide here, before the caller can see the buffer.
    if (op == CMM_AVERAGE && size > 1) divide(b.data, static_cast<size_t>(b.elements), b.dtype, size);
  }

  // Every rank runs the same collectives in the same order, so tags match without negotiation.
  uint32_t next_tag() { return tag_++; }

  std::shared_ptr<QueuedWork> submit(const char* what, std::function<void()> body) {
    health_->throw_if_broken();
    const std::string name = std::string(what) + " (rank " + std::to_string(rank) + " of " + std::to_string(size) + ")";
    auto work = std::make_shared<QueuedWork>(name, std::move(body), health_);
    executor_->submit(work);
    return work;
  }

  void run(const char* what, Millis timeout, std::function<void()> body) {
    auto work = submit(what, std::move(body));
    try {
      work->wait(timeout);
    } catch (...) {
      work->release();
      throw;
    }
    work->release();
  }

  std::shared_ptr<gloo::rendezvous::Context> context_;
  std::shared_ptr<Health> health_;
  uint32_t tag_ = 0;  // touched only on the executor's thread
  std::unique_ptr<SerialExecutor> executor_;
};

}  // namespace

std::unique_ptr<Group> create_gloo_group(int rank, int size, const char* interface_host, Millis timeout,
                                         CallbackStore& store) {
  const std::string who = "joining a Gloo group as rank " + std::to_string(rank) + " of " + std::to_string(size);
  std::shared_ptr<gloo::transport::Device> device;
  try {
    gloo::transport::tcp::attr attr;
    attr.hostname = interface_host;
    device = gloo::transport::tcp::CreateDevice(attr);
  } catch (const std::exception& e) {
    invalid(who + ": interface host '" + interface_host + "' is not an address of this machine: " + e.what());
  }
  auto context = std::make_shared<gloo::rendezvous::Context>(rank, size);
  context->setTimeout(timeout);
  try {
    context->connectFullMesh(store, device);
  } catch (const Failure& f) {
    throw Failure(f.status, who + ": " + f.what());
  } catch (const std::exception& e) {
    throw classify_collective_error(e, who);
  }
  return std::make_unique<GlooGroup>(rank, size, std::move(context));
}

}  // namespace cmm
