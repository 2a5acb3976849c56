// The few CUDA driver API calls the NCCL path needs (device context, events on the null stream),
// loaded with dlopen so the library builds and loads without CUDA. Types declared here as the driver
// API defines them (cuda.h): handles are opaque pointers, results are ints.
#pragma once

#include <string>

namespace cmm {

using CUresult = int;
using CUdevice = int;
using CUcontext = struct CUctx_st*;
using CUevent = struct CUevent_st*;
using CUstream = struct CUstream_st*;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NOT_READY = 600;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 0x2;
constexpr unsigned CU_STREAM_NON_BLOCKING = 0x1;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
using CUdeviceptr = unsigned long long;

struct CudaDriver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGet)(CUdevice*, int);
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext*, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxGetCurrent)(CUcontext*);
  CUresult (*cuMemGetInfo)(size_t* free, size_t* total);
  CUresult (*cuStreamCreate)(CUstream*, unsigned);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void* dst, CUdeviceptr src, size_t bytes, CUstream);
  CUresult (*cuEventCreate)(CUevent*, unsigned);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventQuery)(CUevent);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuGetErrorString)(CUresult, const char**);

  // Throws Failure(status) naming the call and the driver's message unless result is CUDA_SUCCESS.
  void check(CUresult result, const char* call, int status = -3 /* CMM_ERR_PEER */) const;
  std::string describe(CUresult result) const;
};

// Loads libcuda.so.1 (or $CMM_CUDA_DRIVER_LIBRARY) once per process; throws Failure(CMM_ERR_UNAVAILABLE).
const CudaDriver& cuda_driver();

}  // namespace cmm
