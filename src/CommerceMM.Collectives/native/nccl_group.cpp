// NCCL for CUDA memory. Collectives are queued on the null stream, so they follow every kernel
// TorchSharp queued before them and precede every one queued after (GPU.md). Completion is a CUDA
// event recorded behind them; a wait that outlives its timeout aborts the communicator, which is
// what unblocks a GPU spinning on a dead peer.
#include <cstring>
#include <mutex>
#include <thread>

#include "callback_store.h"
#include "dtype.h"
#include "error.h"
#include "group.h"
#include "nccl_api.h"

namespace cmm {
namespace {

constexpr int kNcclAvgVersion = 21000;  // ncclAvg and ncclBfloat16 arrived in NCCL 2.10

// The communicator and what every work handle needs to report on it or abort it.
class Communicator {
 public:
  Communicator(const NcclApi& api, const CudaDriver& cuda, CUcontext context, CUdevice device, ncclComm_t comm, std::string who)
      : api(api), cuda(cuda), context(context), device(device), who(std::move(who)), comm_(comm), health(std::make_shared<Health>()) {}

  ~Communicator() {
    std::lock_guard<std::mutex> lock(mutex_);
    cuda.cuCtxSetCurrent(context);
    if (comm_ != nullptr) {
      // A broken communicator may have kernels that never finish: abort instead of waiting for them.
      if (health->broken() && api.ncclCommAbort != nullptr) api.ncclCommAbort(comm_);
      else api.ncclCommDestroy(comm_);
    }
    cuda.cuDevicePrimaryCtxRelease(device);
  }

  ncclComm_t comm() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (comm_ == nullptr) health->throw_if_broken();
    return comm_;
  }

  // NCCL and the driver act on the calling thread's current context: make it ours.
  void make_current() const { cuda.check(cuda.cuCtxSetCurrent(context), "cuCtxSetCurrent"); }

  void check(ncclResult_t result, const std::string& call) {
    if (result == ncclSuccess) return;
    fail(CMM_ERR_PEER, who + ": " + call + " failed: " + api.describe(result));
  }

  // Marks the group broken and aborts the communicator, so nothing later waits on it.
  [[noreturn]] void fail(cmm_status status, const std::string& message) {
    health->mark_broken(message);
    std::lock_guard<std::mutex> lock(mutex_);
    if (comm_ != nullptr && api.ncclCommAbort != nullptr) {
      api.ncclCommAbort(comm_);
      comm_ = nullptr;
    }
    throw Failure(status, message);
  }

  // An error NCCL found in the background (a peer's network failure), if the NCCL has the query.
  void check_async_error() {
    if (api.ncclCommGetAsyncError == nullptr) return;
    ncclComm_t c = comm();
    ncclResult_t async = ncclSuccess;
    if (api.ncclCommGetAsyncError(c, &async) == ncclSuccess && async != ncclSuccess && async != ncclInProgress)
      fail(CMM_ERR_PEER, who + ": NCCL reported an asynchronous error: " + api.describe(async));
  }

  const NcclApi& api;
  const CudaDriver& cuda;
  const CUcontext context;
  const CUdevice device;
  const std::string who;

 private:
  std::mutex mutex_;
  ncclComm_t comm_;

 public:
  std::shared_ptr<Health> health;
};

// A collective queued on the GPU; done when the event behind it has been reached.
class EventWork : public Work {
 public:
  EventWork(std::shared_ptr<Communicator> comm, std::string what) : comm_(std::move(comm)), what_(std::move(what)) {
    comm_->cuda.check(comm_->cuda.cuEventCreate(&event_, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
    CUresult recorded = comm_->cuda.cuEventRecord(event_, nullptr);
    if (recorded != CUDA_SUCCESS) {
      comm_->cuda.cuEventDestroy(event_);
      comm_->cuda.check(recorded, "cuEventRecord");
    }
  }

  ~EventWork() override { comm_->cuda.cuEventDestroy(event_); }

  void wait(Millis timeout) override {
    comm_->make_current();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(20);
    for (;;) {
      CUresult state = comm_->cuda.cuEventQuery(event_);
      if (state == CUDA_SUCCESS) return;
      if (state != CUDA_ERROR_NOT_READY) comm_->fail(CMM_ERR_PEER, what_ + ": " + comm_->cuda.describe(state));
      comm_->check_async_error();
      if (std::chrono::steady_clock::now() >= deadline)
        comm_->fail(CMM_ERR_TIMEOUT, what_ + " did not complete within " + std::to_string(timeout.count()) +
                                         " ms (a peer is dead, stalled or never called it); the communicator was aborted");
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));  // short ops finish in microseconds
    }
  }

  // The null stream orders everything later behind the collective: buffers may be reused at once.
  void release() override {}

 private:
  std::shared_ptr<Communicator> comm_;
  std::string what_;
  CUevent event_ = nullptr;
};

ncclDataType_t nccl_type(int32_t dtype, int version) {
  switch (dtype) {
    case CMM_FLOAT32: return ncclFloat32;
    case CMM_FLOAT64: return ncclFloat64;
    case CMM_INT64: return ncclInt64;
    case CMM_INT32: return ncclInt32;
    case CMM_BFLOAT16:
      if (version != 0 && version < kNcclAvgVersion) invalid("bfloat16 collectives need NCCL 2.10 or later; loaded " + std::to_string(version));
      return ncclBfloat16;
  }
  element_size(dtype);  // throws naming the code
  return -1;
}

ncclRedOp_t nccl_op(int32_t op, int32_t dtype, int version) {
  switch (op) {
    case CMM_SUM: return ncclSum;
    case CMM_MAX: return ncclMax;
    case CMM_MIN: return ncclMin;
    case CMM_AVERAGE:
      if (!is_floating(dtype)) invalid(std::string("average of ") + dtype_name(dtype) + " buffers is not exact; all-reduce with sum and divide instead");
      if (version != 0 && version < kNcclAvgVersion) invalid("average needs NCCL 2.10 or later (ncclAvg); loaded " + std::to_string(version));
      return ncclAvg;
  }
  reduce_function(CMM_FLOAT32, op);  // throws naming the unknown op
  return -1;
}

class NcclGroup : public Group {
 public:
  NcclGroup(int rank, int size, std::shared_ptr<Communicator> comm) : Group(rank, size), comm_(std::move(comm)) {}

  std::shared_ptr<Work> allreduce_async(const std::vector<Buffer>& buffers, int32_t op, Millis) override {
    const int version = comm_->api.version;
    for (const auto& b : buffers) {
      nccl_type(b.dtype, version);
      nccl_op(op, b.dtype, version);
    }
    ncclComm_t comm = begin();
    for (const auto& b : buffers)
      comm_->check(comm_->api.ncclAllReduce(b.data, b.data, static_cast<size_t>(b.elements), nccl_type(b.dtype, version),
                                            nccl_op(op, b.dtype, version), comm, nullptr),
                   "ncclAllReduce");
    return std::make_shared<EventWork>(comm_, "all_reduce" + suffix());
  }

  void broadcast(const Buffer& b, int root, Millis timeout) override {
    if (root < 0 || root >= size)
      invalid("broadcast root " + std::to_string(root) + " is not a rank of this group (size " + std::to_string(size) + ")");
    const ncclDataType_t type = nccl_type(b.dtype, comm_->api.version);
    ncclComm_t comm = begin();
    comm_->check(comm_->api.ncclBroadcast(b.data, b.data, static_cast<size_t>(b.elements), type, root, comm, nullptr), "ncclBroadcast");
    EventWork(comm_, "broadcast" + suffix()).wait(timeout);
  }

  void allgather(const void* input, const Buffer& per_rank, void* output, Millis timeout) override {
    const ncclDataType_t type = nccl_type(per_rank.dtype, comm_->api.version);
    ncclComm_t comm = begin();
    comm_->check(comm_->api.ncclAllGather(input, output, static_cast<size_t>(per_rank.elements), type, comm, nullptr), "ncclAllGather");
    EventWork(comm_, "all_gather" + suffix()).wait(timeout);
  }

  void allgatherv(const void*, const std::vector<int64_t>&, int32_t, void*, Millis) override {
    invalid("NCCL has no uneven all-gather: pad every rank's rows to the longest and use all_gather");
  }

  void barrier(Millis) override {
    invalid("an NCCL group's barrier is a one-element all-reduce on the device; the caller makes it");
  }

 private:
  ncclComm_t begin() {
    comm_->health->throw_if_broken();
    comm_->make_current();
    return comm_->comm();
  }

  std::string suffix() const { return " (rank " + std::to_string(rank) + " of " + std::to_string(size) + ", NCCL)"; }

  std::shared_ptr<Communicator> comm_;
};

}  // namespace

std::unique_ptr<Group> create_nccl_group(int rank, int size, int cuda_device, Millis timeout, CallbackStore& store) {
  const std::string who = "joining an NCCL group as rank " + std::to_string(rank) + " of " + std::to_string(size);
  const CudaDriver& cuda = cuda_driver();
  const NcclApi& api = nccl_api();
  CUdevice device = 0;
  cuda.check(cuda.cuDeviceGet(&device, cuda_device), ("cuDeviceGet(" + std::to_string(cuda_device) + ")").c_str(), CMM_ERR_INVALID);
  CUcontext context = nullptr;
  cuda.check(cuda.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain", CMM_ERR_UNAVAILABLE);
  try {
    cuda.check(cuda.cuCtxSetCurrent(context), "cuCtxSetCurrent", CMM_ERR_UNAVAILABLE);
    // Rank 0 makes the communicator's id; the others read it from the store.
    ncclUniqueId id{};
    if (rank == 0) {
      ncclResult_t made = api.ncclGetUniqueId(&id);
      if (made != ncclSuccess) throw Failure(CMM_ERR_UNAVAILABLE, who + ": ncclGetUniqueId failed: " + api.describe(made));
      store.set("nccl_unique_id", std::vector<char>(id.internal, id.internal + sizeof id.internal));
    } else {
      auto value = store.get("nccl_unique_id");
      if (value.size() != sizeof id.internal)
        throw Failure(CMM_ERR_STORE, who + ": the store's nccl_unique_id has " + std::to_string(value.size()) + " bytes, not 128");
      std::memcpy(id.internal, value.data(), sizeof id.internal);
    }
    // ncclCommInitRank has no timeout: meet in the store first, so a rank that never comes is a
    // store timeout here rather than a hang inside NCCL.
    store.set("nccl_arrived_" + std::to_string(rank), {'1'});
    std::vector<std::string> everyone;
    for (int r = 0; r < size; ++r) everyone.push_back("nccl_arrived_" + std::to_string(r));
    store.wait(everyone, timeout);
    ncclComm_t comm = nullptr;
    ncclResult_t joined = api.ncclCommInitRank(&comm, size, id, rank);
    if (joined != ncclSuccess) throw Failure(CMM_ERR_PEER, who + ": ncclCommInitRank failed: " + api.describe(joined));
    return std::make_unique<NcclGroup>(rank, size, std::make_shared<Communicator>(api, cuda, context, device, comm, who));
  } catch (const Failure& f) {
    cuda.cuDevicePrimaryCtxRelease(device);
    if (std::string(f.what()).rfind(who, 0) == 0) throw;
    throw Failure(f.status, who + ": " + f.what());
  }
}

}  // namespace cmm
