// A process group behind a cmm_group handle: Gloo (host memory) or NCCL (CUDA memory).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "work.h"

namespace cmm {

using Millis = std::chrono::milliseconds;

struct Buffer {
  void* data;
  int64_t elements;
  int32_t dtype;
};

class Group {
 public:
  Group(int rank, int size) : rank(rank), size(size) {}
  virtual ~Group() = default;

  virtual std::shared_ptr<Work> allreduce_async(const std::vector<Buffer>& buffers, int32_t op, Millis timeout) = 0;
  virtual void broadcast(const Buffer& buffer, int root, Millis timeout) = 0;
  virtual void allgather(const void* input, const Buffer& output_per_rank, void* output, Millis timeout) = 0;
  virtual void allgatherv(const void* input, const std::vector<int64_t>& counts, int32_t dtype, void* output,
                          Millis timeout) = 0;
  virtual void barrier(Millis timeout) = 0;

  const int rank;
  const int size;
};

// Both throw Failure with a message naming the rank, the size and what went wrong.
std::unique_ptr<Group> create_gloo_group(int rank, int size, const char* interface_host, Millis timeout,
                                         class CallbackStore& store);
std::unique_ptr<Group> create_nccl_group(int rank, int size, int cuda_device, Millis timeout, class CallbackStore& store);

}  // namespace cmm
