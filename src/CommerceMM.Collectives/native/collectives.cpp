// The C ABI (cmm_collectives.h): argument checks, then dispatch to the group's backend.
#include <string>
#include <vector>

#include "callback_store.h"
#include "cuda_memory.h"
#include "dtype.h"
#include "error.h"
#include "group.h"

struct cmm_group {
  std::unique_ptr<cmm::Group> impl;
};

struct cmm_work {
  std::shared_ptr<cmm::Work> impl;
};

namespace {

cmm::Group& group_ref(cmm_group* g) {
  if (g == nullptr || !g->impl) cmm::invalid("null process group handle");
  return *g->impl;
}

cmm::Millis timeout_of(int64_t timeout_ms) {
  if (timeout_ms <= 0) cmm::invalid("timeout must be positive, got " + std::to_string(timeout_ms) + " ms");
  return cmm::Millis(timeout_ms);
}

cmm::Buffer buffer(void* data, int64_t elements, int32_t dtype, const char* what) {
  cmm::element_size(dtype);
  if (elements < 0) cmm::invalid(std::string(what) + ": negative element count " + std::to_string(elements));
  if (data == nullptr && elements > 0) cmm::invalid(std::string(what) + ": null buffer with " + std::to_string(elements) + " elements");
  return cmm::Buffer{data, elements, dtype};
}

}  // namespace

extern "C" {

CMM_EXPORT int32_t cmm_group_create(int32_t backend, int32_t rank, int32_t size, const char* interface_host,
                                    int32_t cuda_device, int64_t timeout_ms, cmm_store_set_fn set,
                                    cmm_store_get_fn get, void* store_state, cmm_group** out) {
  CMM_GUARD({
    if (out == nullptr) cmm::invalid("null output handle");
    *out = nullptr;
    if (size < 1 || rank < 0 || rank >= size)
      cmm::invalid("invalid rank " + std::to_string(rank) + " for world size " + std::to_string(size));
    const auto timeout = timeout_of(timeout_ms);
    cmm::CallbackStore store(set, get, store_state, timeout);
    auto g = std::make_unique<cmm_group>();
    switch (backend) {
      case CMM_BACKEND_GLOO:
        if (interface_host == nullptr || *interface_host == '\0') cmm::invalid("empty interface host");
        g->impl = cmm::create_gloo_group(rank, size, interface_host, timeout, store);
        break;
      case CMM_BACKEND_NCCL:
        if (cuda_device < 0) cmm::invalid("invalid CUDA device ordinal " + std::to_string(cuda_device));
        g->impl = cmm::create_nccl_group(rank, size, cuda_device, timeout, store);
        break;
      default:
        cmm::invalid("unknown backend code " + std::to_string(backend) + " (0 gloo, 1 nccl)");
    }
    *out = g.release();
  })
}

CMM_EXPORT void cmm_group_free(cmm_group* group) {
  try {
    delete group;
  } catch (...) {
    // Destructors only wait and release; nothing useful to report after the caller let go.
  }
}

CMM_EXPORT int32_t cmm_allreduce_async(cmm_group* group, void* const* buffers, const int64_t* elements,
                                       const int32_t* dtypes, int32_t count, int32_t op, int64_t timeout_ms,
                                       cmm_work** out) {
  CMM_GUARD({
    if (out == nullptr) cmm::invalid("null output handle");
    *out = nullptr;
    auto& g = group_ref(group);
    if (count < 0 || (count > 0 && (buffers == nullptr || elements == nullptr || dtypes == nullptr)))
      cmm::invalid("all_reduce: bad buffer list (count " + std::to_string(count) + ")");
    std::vector<cmm::Buffer> list;
    for (int32_t i = 0; i < count; ++i) list.push_back(buffer(buffers[i], elements[i], dtypes[i], "all_reduce"));
    auto work = std::make_unique<cmm_work>();
    work->impl = g.allreduce_async(list, op, timeout_of(timeout_ms));
    *out = work.release();
  })
}

CMM_EXPORT int32_t cmm_work_wait(cmm_work* work, int64_t timeout_ms) {
  CMM_GUARD({
    if (work == nullptr || !work->impl) cmm::invalid("null work handle");
    work->impl->wait(timeout_of(timeout_ms));
  })
}

CMM_EXPORT void cmm_work_free(cmm_work* work) {
  if (work == nullptr) return;
  try {
    if (work->impl) work->impl->release();
  } catch (...) {
  }
  delete work;
}

CMM_EXPORT int32_t cmm_broadcast(cmm_group* group, void* data, int64_t elements, int32_t dtype, int32_t root,
                                 int64_t timeout_ms) {
  CMM_GUARD(group_ref(group).broadcast(buffer(data, elements, dtype, "broadcast"), root, timeout_of(timeout_ms)))
}

CMM_EXPORT int32_t cmm_allgather(cmm_group* group, const void* input, int64_t elements, int32_t dtype, void* output,
                                 int64_t timeout_ms) {
  CMM_GUARD({
    auto& g = group_ref(group);
    auto per_rank = buffer(const_cast<void*>(input), elements, dtype, "all_gather input");
    buffer(output, elements * g.size, dtype, "all_gather output");
    g.allgather(input, per_rank, output, timeout_of(timeout_ms));
  })
}

CMM_EXPORT int32_t cmm_allgatherv(cmm_group* group, const void* input, const int64_t* counts, int32_t dtype,
                                  void* output, int64_t timeout_ms) {
  CMM_GUARD({
    auto& g = group_ref(group);
    if (counts == nullptr) cmm::invalid("all_gather: null counts");
    std::vector<int64_t> list(counts, counts + g.size);
    int64_t total = 0;
    for (auto c : list) total += c;
    buffer(const_cast<void*>(input), list[g.rank], dtype, "all_gather input");
    buffer(output, total, dtype, "all_gather output");
    g.allgatherv(input, list, dtype, output, timeout_of(timeout_ms));
  })
}

CMM_EXPORT int32_t cmm_barrier(cmm_group* group, int64_t timeout_ms) {
  CMM_GUARD(group_ref(group).barrier(timeout_of(timeout_ms)))
}

CMM_EXPORT int32_t cmm_cuda_memory(int32_t device, int64_t* used, int64_t* total) {
  CMM_GUARD(cmm::cuda_memory(device, used, total))
}

CMM_EXPORT int32_t cmm_cuda_compute_capability(int32_t device, int32_t* major, int32_t* minor) {
  CMM_GUARD(cmm::cuda_compute_capability(device, major, minor))
}

CMM_EXPORT int32_t cmm_cuda_copy_to_host(int32_t device, const uint64_t* sources, void* const* destinations,
                                         const int64_t* bytes, int32_t count) {
  CMM_GUARD(cmm::cuda_copy_to_host(device, sources, destinations, bytes, count))
}

}  // extern "C"
