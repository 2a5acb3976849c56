// A fake libnccl.so.2 and libcuda.so.1 in one library, for tests on machines without a GPU. Loaded
// through CMM_NCCL_LIBRARY and CMM_CUDA_DRIVER_LIBRARY, it appends one line per call, with every
// argument, to the file named by CMM_NCCL_STUB_LOG, so a test can check what the C# API passed.
// "Device memory" is host memory here: collectives act as if every rank held what this one holds.
// CMM_NCCL_STUB_HANG=1 makes every event stay pending, as a GPU waiting on a dead peer would.
#include <unistd.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace {

std::mutex log_mutex;

void record(const char* format, ...) {
  const char* path = std::getenv("CMM_NCCL_STUB_LOG");
  if (path == nullptr) return;
  std::lock_guard<std::mutex> lock(log_mutex);
  FILE* f = std::fopen(path, "a");
  if (f == nullptr) return;
  va_list args;
  va_start(args, format);
  std::vfprintf(f, format, args);
  va_end(args);
  std::fputc('\n', f);
  std::fclose(f);
}

unsigned long long addr(const void* p) { return static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(p)); }

size_t type_size(int datatype) {
  switch (datatype) {
    case 0: case 1: return 1;               // int8, uint8
    case 2: case 3: case 7: return 4;       // int32, uint32, float32
    case 4: case 5: case 8: return 8;       // int64, uint64, float64
    case 6: case 9: return 2;               // float16, bfloat16
  }
  return 0;
}

struct FakeComm {
  int nranks;
  int rank;
};

bool hang() {
  const char* v = std::getenv("CMM_NCCL_STUB_HANG");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace

extern "C" {

// ---- NCCL ----------------------------------------------------------------------------------

struct StubUniqueId {
  char internal[128];
};

int ncclGetVersion(int* version) {
  *version = 22809;
  return 0;
}

int ncclGetUniqueId(StubUniqueId* id) {
  // Recognisable and different per process, so a test can see rank 1 received rank 0's id.
  std::memset(id->internal, 0, sizeof id->internal);
  std::snprintf(id->internal, sizeof id->internal, "stub-id-pid-%d", static_cast<int>(getpid()));
  record("ncclGetUniqueId id=%s", id->internal);
  return 0;
}

int ncclCommInitRank(FakeComm** comm, int nranks, StubUniqueId id, int rank) {
  *comm = new FakeComm{nranks, rank};
  record("ncclCommInitRank comm=%llu nranks=%d rank=%d id=%.*s", addr(*comm), nranks, rank, 100, id.internal);
  return 0;
}

int ncclAllReduce(const void* send, void* recv, size_t count, int datatype, int op, FakeComm* comm, void* stream) {
  record("ncclAllReduce send=%llu recv=%llu count=%zu datatype=%d op=%d comm=%llu stream=%llu", addr(send), addr(recv),
         count, datatype, op, addr(comm), addr(stream));
  if (send != recv) std::memmove(recv, send, count * type_size(datatype));
  return 0;
}

int ncclBroadcast(const void* send, void* recv, size_t count, int datatype, int root, FakeComm* comm, void* stream) {
  record("ncclBroadcast send=%llu recv=%llu count=%zu datatype=%d root=%d comm=%llu stream=%llu", addr(send), addr(recv),
         count, datatype, root, addr(comm), addr(stream));
  if (send != recv) std::memmove(recv, send, count * type_size(datatype));
  return 0;
}

int ncclAllGather(const void* send, void* recv, size_t count, int datatype, FakeComm* comm, void* stream) {
  record("ncclAllGather send=%llu recv=%llu count=%zu datatype=%d comm=%llu stream=%llu", addr(send), addr(recv), count,
         datatype, addr(comm), addr(stream));
  // As if every rank sent what this one sent (the stub has no peers to hear from).
  const size_t bytes = count * type_size(datatype);
  for (int r = 0; r < comm->nranks; ++r) std::memmove(static_cast<char*>(recv) + r * bytes, send, bytes);
  return 0;
}

int ncclCommDestroy(FakeComm* comm) {
  record("ncclCommDestroy comm=%llu", addr(comm));
  delete comm;
  return 0;
}

int ncclCommAbort(FakeComm* comm) {
  record("ncclCommAbort comm=%llu", addr(comm));
  delete comm;
  return 0;
}

int ncclCommGetAsyncError(FakeComm*, int* error) {
  *error = 0;
  return 0;
}

const char* ncclGetErrorString(int result) { return result == 0 ? "no error" : "stub error"; }

// ---- CUDA driver ---------------------------------------------------------------------------

int cuInit(unsigned) { return 0; }

int cuDeviceGet(int* device, int ordinal) {
  record("cuDeviceGet ordinal=%d", ordinal);
  if (ordinal > 0) return 101;  // CUDA_ERROR_INVALID_DEVICE: the stub machine has one GPU
  *device = ordinal;
  return 0;
}

// The stub GPU's compute capability: CMM_NCCL_STUB_CAPABILITY as "major.minor" (default 9.0, an H100/H200).
int cuDeviceGetAttribute(int* value, int attribute, int device) {
  record("cuDeviceGetAttribute attribute=%d device=%d", attribute, device);
  const char* configured = std::getenv("CMM_NCCL_STUB_CAPABILITY");
  int major = 9, minor = 0;
  if (configured != nullptr) std::sscanf(configured, "%d.%d", &major, &minor);
  if (attribute == 75) *value = major;
  else if (attribute == 76) *value = minor;
  else return 1;  // CUDA_ERROR_INVALID_VALUE: the stub knows only these two
  return 0;
}

int cuDevicePrimaryCtxRetain(void** context, int device) {
  static int fake_context;
  *context = &fake_context;
  record("cuDevicePrimaryCtxRetain device=%d", device);
  return 0;
}

int cuDevicePrimaryCtxRelease_v2(int device) {
  record("cuDevicePrimaryCtxRelease device=%d", device);
  return 0;
}

int cuCtxSetCurrent(void* context) {
  record("cuCtxSetCurrent context=%llu", addr(context));
  return 0;
}

int cuCtxGetCurrent(void** context) {
  *context = nullptr;
  return 0;
}

// Streams are tokens; "device memory" is host memory, so a device-to-host copy is a memcpy.
int cuStreamCreate(void** stream, unsigned flags) {
  static int streams;
  *stream = reinterpret_cast<void*>(static_cast<uintptr_t>(0x5000 + ++streams));
  record("cuStreamCreate stream=%llu flags=%u", addr(*stream), flags);
  return 0;
}

int cuStreamWaitEvent(void* stream, void* event, unsigned) {
  record("cuStreamWaitEvent stream=%llu event=%llu", addr(stream), addr(event));
  return 0;
}

int cuMemcpyDtoHAsync_v2(void* dst, unsigned long long src, size_t bytes, void* stream) {
  record("cuMemcpyDtoHAsync dst=%llu src=%llu bytes=%zu stream=%llu", addr(dst), src, bytes, addr(stream));
  std::memcpy(dst, reinterpret_cast<const void*>(static_cast<uintptr_t>(src)), bytes);
  return 0;
}

int cuStreamSynchronize(void* stream) {
  record("cuStreamSynchronize stream=%llu", addr(stream));
  return 0;
}

int cuStreamDestroy_v2(void* stream) {
  record("cuStreamDestroy stream=%llu", addr(stream));
  return 0;
}

// An 80 GiB device with 3 GiB free.
int cuMemGetInfo_v2(size_t* free, size_t* total) {
  record("cuMemGetInfo");
  *total = size_t{80} << 30;
  *free = size_t{3} << 30;
  return 0;
}

int cuEventCreate(void** event, unsigned flags) {
  *event = new int(static_cast<int>(flags));
  return 0;
}

int cuEventRecord(void* event, void* stream) {
  record("cuEventRecord event=%llu stream=%llu", addr(event), addr(stream));
  return 0;
}

int cuEventQuery(void*) { return hang() ? 600 : 0; }  // 600: CUDA_ERROR_NOT_READY

int cuEventDestroy_v2(void* event) {
  delete static_cast<int*>(event);
  return 0;
}

int cuGetErrorString(int error, const char** text) {
  *text = error == 101 ? "invalid device ordinal" : "stub CUDA error";
  return 0;
}

}  // extern "C"
