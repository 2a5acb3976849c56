// Device memory outside the collectives: how much is in use, and copies to the host off libtorch's stream.
#include "cuda_memory.h"

#include <string>

#include "cuda_driver.h"
#include "error.h"

namespace cmm {
namespace {

// The device's primary context (the one libtorch uses) current on this thread while it lives; the thread's previous
// context afterwards.
class PrimaryContext {
 public:
  PrimaryContext(const CudaDriver& cuda, int32_t device) : cuda_(cuda) {
    cuda.check(cuda.cuDeviceGet(&device_, device), "cuDeviceGet", CMM_ERR_INVALID);
    cuda.check(cuda.cuCtxGetCurrent(&previous_), "cuCtxGetCurrent", CMM_ERR_UNAVAILABLE);
    CUcontext context = nullptr;
    cuda.check(cuda.cuDevicePrimaryCtxRetain(&context, device_), "cuDevicePrimaryCtxRetain", CMM_ERR_UNAVAILABLE);
    const CUresult set = cuda.cuCtxSetCurrent(context);
    if (set != CUDA_SUCCESS) {
      cuda.cuDevicePrimaryCtxRelease(device_);
      cuda.check(set, "cuCtxSetCurrent", CMM_ERR_UNAVAILABLE);
    }
  }
  ~PrimaryContext() {
    cuda_.cuCtxSetCurrent(previous_);
    cuda_.cuDevicePrimaryCtxRelease(device_);
  }
  PrimaryContext(const PrimaryContext&) = delete;
  PrimaryContext& operator=(const PrimaryContext&) = delete;

 private:
  const CudaDriver& cuda_;
  CUdevice device_ = 0;
  CUcontext previous_ = nullptr;
};

// A stream that never waits for the null stream implicitly; destroyed only once nothing queued on it still runs.
class CopyStream {
 public:
  explicit CopyStream(const CudaDriver& cuda) : cuda_(cuda) {
    cuda.check(cuda.cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING), "cuStreamCreate", CMM_ERR_UNAVAILABLE);
  }
  ~CopyStream() {
    cuda_.cuStreamSynchronize(stream_);
    cuda_.cuStreamDestroy(stream_);
  }
  CopyStream(const CopyStream&) = delete;
  CopyStream& operator=(const CopyStream&) = delete;
  CUstream get() const { return stream_; }

 private:
  const CudaDriver& cuda_;
  CUstream stream_ = nullptr;
};

class Event {
 public:
  explicit Event(const CudaDriver& cuda) : cuda_(cuda) {
    cuda.check(cuda.cuEventCreate(&event_, CU_EVENT_DISABLE_TIMING), "cuEventCreate", CMM_ERR_UNAVAILABLE);
  }
  ~Event() { cuda_.cuEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  CUevent get() const { return event_; }

 private:
  const CudaDriver& cuda_;
  CUevent event_ = nullptr;
};

}  // namespace

void cuda_memory(int32_t device, int64_t* used, int64_t* total) {
  if (used == nullptr || total == nullptr) invalid("null output");
  const auto& cuda = cuda_driver();
  PrimaryContext current(cuda, device);
  size_t free_bytes = 0, total_bytes = 0;
  cuda.check(cuda.cuMemGetInfo(&free_bytes, &total_bytes), "cuMemGetInfo", CMM_ERR_UNAVAILABLE);
  *used = static_cast<int64_t>(total_bytes - free_bytes);
  *total = static_cast<int64_t>(total_bytes);
}

void cuda_compute_capability(int32_t device, int32_t* major, int32_t* minor) {
  if (major == nullptr || minor == nullptr) invalid("null output");
  const auto& cuda = cuda_driver();
  CUdevice handle = 0;
  cuda.check(cuda.cuDeviceGet(&handle, device), "cuDeviceGet", CMM_ERR_INVALID);
  int value = 0;
  cuda.check(cuda.cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, handle), "cuDeviceGetAttribute", CMM_ERR_UNAVAILABLE);
  *major = value;
  cuda.check(cuda.cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, handle), "cuDeviceGetAttribute", CMM_ERR_UNAVAILABLE);
  *minor = value;
}

void cuda_copy_to_host(int32_t device, const uint64_t* sources, void* const* destinations, const int64_t* bytes, int32_t count) {
  if (count < 0 || (count > 0 && (sources == nullptr || destinations == nullptr || bytes == nullptr)))
    invalid("copy_to_host: bad buffer list (count " + std::to_string(count) + ")");
  for (int32_t i = 0; i < count; ++i)
    if (bytes[i] < 0 || (bytes[i] > 0 && (sources[i] == 0 || destinations[i] == nullptr)))
      invalid("copy_to_host: buffer " + std::to_string(i) + " has a null address or a negative size");
  const auto& cuda = cuda_driver();
  PrimaryContext current(cuda, device);
  CopyStream stream(cuda);
  Event queued(cuda);
  // What the null stream has queued so far (libtorch's kernels, the caller's device copies) runs before the copies.
  cuda.check(cuda.cuEventRecord(queued.get(), nullptr), "cuEventRecord", CMM_ERR_UNAVAILABLE);
  cuda.check(cuda.cuStreamWaitEvent(stream.get(), queued.get(), 0), "cuStreamWaitEvent", CMM_ERR_UNAVAILABLE);
  for (int32_t i = 0; i < count; ++i)
    if (bytes[i] > 0)
      cuda.check(cuda.cuMemcpyDtoHAsync(destinations[i], sources[i], static_cast<size_t>(bytes[i]), stream.get()), "cuMemcpyDtoHAsync", CMM_ERR_UNAVAILABLE);
  cuda.check(cuda.cuStreamSynchronize(stream.get()), "cuStreamSynchronize", CMM_ERR_UNAVAILABLE);
}

}  // namespace cmm
