// cmm_cuda_memory, cmm_cuda_compute_capability and cmm_cuda_copy_to_host (cmm_collectives.h); throw Failure like the rest of the library.
#pragma once

#include <cstdint>

namespace cmm {

void cuda_memory(int32_t device, int64_t* used, int64_t* total);
void cuda_compute_capability(int32_t device, int32_t* major, int32_t* minor);
void cuda_copy_to_host(int32_t device, const uint64_t* sources, void* const* destinations, const int64_t* bytes, int32_t count);

}  // namespace cmm
