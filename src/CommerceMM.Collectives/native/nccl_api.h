// NCCL bound at run time (dlopen of libnccl.so.2, or $CMM_NCCL_LIBRARY): no NCCL or CUDA headers at
// build time. The types are declared here as nccl.h defines them; their values are NCCL's stable ABI.
#pragma once

#include <cstddef>
#include <string>

#include "cuda_driver.h"

namespace cmm {

using ncclComm_t = struct ncclComm*;
using ncclResult_t = int;
using ncclDataType_t = int;
using ncclRedOp_t = int;
struct ncclUniqueId {
  char internal[128];
};

constexpr ncclResult_t ncclSuccess = 0;
constexpr ncclResult_t ncclInProgress = 7;
// ncclDataType_t
constexpr ncclDataType_t ncclInt32 = 2, ncclInt64 = 4, ncclFloat32 = 7, ncclFloat64 = 8, ncclBfloat16 = 9;
// ncclRedOp_t
constexpr ncclRedOp_t ncclSum = 0, ncclMax = 2, ncclMin = 3, ncclAvg = 4;

struct NcclApi {
  ncclResult_t (*ncclGetUniqueId)(ncclUniqueId*);
  ncclResult_t (*ncclCommInitRank)(ncclComm_t*, int, ncclUniqueId, int);
  ncclResult_t (*ncclAllReduce)(const void*, void*, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t, CUstream);
  ncclResult_t (*ncclBroadcast)(const void*, void*, size_t, ncclDataType_t, int, ncclComm_t, CUstream);
  ncclResult_t (*ncclAllGather)(const void*, void*, size_t, ncclDataType_t, ncclComm_t, CUstream);
  ncclResult_t (*ncclCommDestroy)(ncclComm_t);
  const char* (*ncclGetErrorString)(ncclResult_t);
  // Optional (absent from old NCCLs): without them a timeout cannot unblock the GPU, and errors are seen later.
  ncclResult_t (*ncclCommAbort)(ncclComm_t);
  ncclResult_t (*ncclCommGetAsyncError)(ncclComm_t, ncclResult_t*);
  ncclResult_t (*ncclGetVersion)(int*);

  std::string path;
  int version = 0;  // e.g. 22809 for 2.28.9; 0 if unknown

  std::string describe(ncclResult_t result) const;
};

// Loads NCCL once per process; throws Failure(CMM_ERR_UNAVAILABLE) naming the path and the fix.
const NcclApi& nccl_api();

}  // namespace cmm
