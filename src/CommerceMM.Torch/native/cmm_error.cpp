#include "cmm_common.h"

#include <ATen/Parallel.h>
#include <omp.h>

#include <cstdlib>
#include <cstring>

namespace {
thread_local char* last_error = nullptr;
}

namespace cmm {

void clear_last_error() {
  std::free(last_error);
  last_error = nullptr;
}

void set_last_error(const std::string& message) {
  std::free(last_error);
  last_error = strdup(message.c_str());
}

std::vector<at::Tensor> tensor_list(const cmm_tensor* handles, int64_t count) {
  if (count < 0 || (count > 0 && handles == nullptr)) throw std::invalid_argument("invalid tensor list");
  std::vector<at::Tensor> list;
  list.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) list.push_back(ref(handles[i]));
  return list;
}

}  // namespace cmm

// Transfers the thread's error text (or null) to the caller; free it with cmm_free_string.
CMM_EXPORT char* cmm_last_error() {
  char* message = last_error;
  last_error = nullptr;
  return message;
}

CMM_EXPORT void cmm_free_string(char* text) { std::free(text); }

CMM_EXPORT void cmm_tensor_free(cmm_tensor handle) { delete handle; }

CMM_EXPORT int32_t cmm_set_num_threads(int32_t threads) {
  CMM_STATUS(
    if (threads < 1) throw std::invalid_argument("thread count must be >= 1, got " + std::to_string(threads));
    at::set_num_threads(threads);
  )
}

CMM_EXPORT int32_t cmm_get_num_threads() { return at::get_num_threads(); }

// OpenMP keeps its thread count per OS thread, and OpenBLAS reads that one, not libtorch's: a thread
// that never called at::set_num_threads multiplies BLAS work over every core.
CMM_EXPORT int32_t cmm_get_openmp_threads() { return omp_get_max_threads(); }

CMM_EXPORT void cmm_manual_seed(uint64_t seed) { at::manual_seed(seed); }
