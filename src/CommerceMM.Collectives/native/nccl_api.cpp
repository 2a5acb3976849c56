#include "nccl_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "error.h"

namespace cmm {
namespace {

template <typename F>
void bind(void* lib, const char* name, const std::string& path, F& out, bool required = true) {
  void* symbol = dlsym(lib, name);
  if (symbol == nullptr && required) throw Failure(CMM_ERR_UNAVAILABLE, path + " has no " + name + ": not an NCCL library");
  out = reinterpret_cast<F>(symbol);
}

NcclApi load() {
  const char* configured = std::getenv("CMM_NCCL_LIBRARY");
  NcclApi api{};
  api.path = configured != nullptr && *configured != '\0' ? configured : "libnccl.so.2";
  void* lib = dlopen(api.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    throw Failure(CMM_ERR_UNAVAILABLE, "cannot load NCCL " + api.path + " (" + (why ? why : "unknown") +
                                           "): CUDA collectives need NCCL 2.10 or later; add its folder to LD_LIBRARY_PATH "
                                           "(pip: site-packages/nvidia/nccl/lib) or set CMM_NCCL_LIBRARY to the file");
  }
  bind(lib, "ncclGetUniqueId", api.path, api.ncclGetUniqueId);
  bind(lib, "ncclCommInitRank", api.path, api.ncclCommInitRank);
  bind(lib, "ncclAllReduce", api.path, api.ncclAllReduce);
  bind(lib, "ncclBroadcast", api.path, api.ncclBroadcast);
  bind(lib, "ncclAllGather", api.path, api.ncclAllGather);
  bind(lib, "ncclCommDestroy", api.path, api.ncclCommDestroy);
  bind(lib, "ncclGetErrorString", api.path, api.ncclGetErrorString);
  bind(lib, "ncclCommAbort", api.path, api.ncclCommAbort, false);
  bind(lib, "ncclCommGetAsyncError", api.path, api.ncclCommGetAsyncError, false);
  bind(lib, "ncclGetVersion", api.path, api.ncclGetVersion, false);
  if (api.ncclGetVersion != nullptr && api.ncclGetVersion(&api.version) != ncclSuccess) api.version = 0;
  return api;  // lib stays loaded for the life of the process, as the pointers need
}

}  // namespace

std::string NcclApi::describe(ncclResult_t result) const {
  const char* text = ncclGetErrorString != nullptr ? ncclGetErrorString(result) : nullptr;
  return "NCCL error " + std::to_string(result) + (text != nullptr ? std::string(" (") + text + ")" : "");
}

const NcclApi& nccl_api() {
  static std::mutex mutex;
  static std::unique_ptr<NcclApi> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (!loaded) loaded = std::make_unique<NcclApi>(load());
  return *loaded;
}

}  // namespace cmm
