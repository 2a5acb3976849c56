#include "cuda_driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "error.h"

namespace cmm {
namespace {

template <typename F>
void bind(void* lib, const char* name, const std::string& path, F& out) {
  void* symbol = dlsym(lib, name);
  if (symbol == nullptr) throw Failure(CMM_ERR_UNAVAILABLE, path + " has no " + name + ": not a CUDA driver library");
  out = reinterpret_cast<F>(symbol);
}

CudaDriver load() {
  const char* configured = std::getenv("CMM_CUDA_DRIVER_LIBRARY");
  const std::string path = configured != nullptr && *configured != '\0' ? configured : "libcuda.so.1";
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    throw Failure(CMM_ERR_UNAVAILABLE, "cannot load the CUDA driver " + path + " (" + (why ? why : "unknown") +
                                           "): CUDA tensors need an NVIDIA driver; set CMM_CUDA_DRIVER_LIBRARY to its libcuda.so.1");
  }
  CudaDriver d{};
  bind(lib, "cuInit", path, d.cuInit);
  bind(lib, "cuDeviceGet", path, d.cuDeviceGet);
  bind(lib, "cuDeviceGetAttribute", path, d.cuDeviceGetAttribute);
  bind(lib, "cuDevicePrimaryCtxRetain", path, d.cuDevicePrimaryCtxRetain);
  bind(lib, "cuDevicePrimaryCtxRelease_v2", path, d.cuDevicePrimaryCtxRelease);
  bind(lib, "cuCtxSetCurrent", path, d.cuCtxSetCurrent);
  bind(lib, "cuCtxGetCurrent", path, d.cuCtxGetCurrent);
  bind(lib, "cuMemGetInfo_v2", path, d.cuMemGetInfo);
  bind(lib, "cuStreamCreate", path, d.cuStreamCreate);
  bind(lib, "cuStreamWaitEvent", path, d.cuStreamWaitEvent);
  bind(lib, "cuStreamSynchronize", path, d.cuStreamSynchronize);
  bind(lib, "cuStreamDestroy_v2", path, d.cuStreamDestroy);
  bind(lib, "cuMemcpyDtoHAsync_v2", path, d.cuMemcpyDtoHAsync);
  bind(lib, "cuEventCreate", path, d.cuEventCreate);
  bind(lib, "cuEventRecord", path, d.cuEventRecord);
  bind(lib, "cuEventQuery", path, d.cuEventQuery);
  bind(lib, "cuEventDestroy_v2", path, d.cuEventDestroy);
  bind(lib, "cuGetErrorString", path, d.cuGetErrorString);
  d.check(d.cuInit(0), "cuInit (no usable NVIDIA driver or GPU)", CMM_ERR_UNAVAILABLE);
  return d;  // lib stays loaded for the life of the process, as the pointers need
}

}  // namespace

std::string CudaDriver::describe(CUresult result) const {
  const char* text = nullptr;
  if (cuGetErrorString != nullptr) cuGetErrorString(result, &text);
  return "CUDA error " + std::to_string(result) + (text != nullptr ? std::string(" (") + text + ")" : "");
}

void CudaDriver::check(CUresult result, const char* call, int status) const {
  if (result != CUDA_SUCCESS) throw Failure(static_cast<cmm_status>(status), std::string(call) + " failed: " + describe(result));
}

const CudaDriver& cuda_driver() {
  // Loaded once; a failure is not cached so that a fixed environment works on the next try.
  static std::mutex mutex;
  static std::unique_ptr<CudaDriver> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (!loaded) loaded = std::make_unique<CudaDriver>(load());
  return *loaded;
}

}  // namespace cmm
