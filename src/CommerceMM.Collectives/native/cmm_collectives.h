// The C ABI of libcmmcollectives. The C# side (Interop/NativeMethods.cs) mirrors it exactly.
//
// Every function returns a status (CMM_OK or a negative cmm_status) and leaves a message naming the
// failure in a thread-local string (cmm_last_error), valid until the next failing call on that thread.
// Buffers are raw pointers to contiguous memory: host memory for Gloo groups, device memory for NCCL
// groups. Every collective takes a timeout in milliseconds; none waits forever.
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CMM_EXPORT __attribute__((visibility("default")))

enum cmm_status {
  CMM_OK = 0,
  CMM_ERR_INVALID = -1,      // a bad argument; nothing was sent, the group is still usable
  CMM_ERR_TIMEOUT = -2,      // the operation did not complete in time; the group is now unusable
  CMM_ERR_PEER = -3,         // a peer failed or vanished (connection closed, NCCL error); the group is unusable
  CMM_ERR_BROKEN = -4,       // an earlier operation failed; the group refuses further work
  CMM_ERR_STORE = -5,        // the rendezvous store failed (unreachable, refused a key)
  CMM_ERR_UNAVAILABLE = -6,  // the backend cannot be used here (libnccl or the CUDA driver not loadable)
  CMM_ERR_INTERNAL = -7,     // anything else (a bug)
};

enum cmm_backend { CMM_BACKEND_GLOO = 0, CMM_BACKEND_NCCL = 1 };

// Element types; the values are the C# enum's (ElementType).
enum cmm_dtype { CMM_FLOAT32 = 0, CMM_FLOAT64 = 1, CMM_INT64 = 2, CMM_INT32 = 3, CMM_BFLOAT16 = 4 };

enum cmm_reduce_op { CMM_SUM = 0, CMM_AVERAGE = 1, CMM_MAX = 2, CMM_MIN = 3 };

typedef struct cmm_group cmm_group;
typedef struct cmm_work cmm_work;

// Rendezvous store callbacks, implemented in C#. They return 0 on success; on failure they call
// cmm_store_reply_error and return CMM_ERR_TIMEOUT (key did not appear in time) or CMM_ERR_STORE.
// get answers through cmm_store_reply_value. reply is only valid during the callback.
typedef int32_t (*cmm_store_set_fn)(void* state, const char* key, const uint8_t* value, int64_t length, void* reply);
typedef int32_t (*cmm_store_get_fn)(void* state, const char* key, int64_t timeout_ms, void* reply);
CMM_EXPORT void cmm_store_reply_value(void* reply, const uint8_t* value, int64_t length);
CMM_EXPORT void cmm_store_reply_error(void* reply, const char* message);

CMM_EXPORT const char* cmm_last_error(void);

// Joins a group of `size` ranks. Blocks until every rank has joined through the store, or timeout_ms.
// interface_host: an address of this machine peers can reach (Gloo). cuda_device: the CUDA device
// ordinal the buffers live on (NCCL; ignored by Gloo). The store callbacks are used only during this call.
CMM_EXPORT int32_t cmm_group_create(int32_t backend, int32_t rank, int32_t size, const char* interface_host,
                                    int32_t cuda_device, int64_t timeout_ms, cmm_store_set_fn set,
                                    cmm_store_get_fn get, void* store_state, cmm_group** out);
// Waits for the collective in progress (bounded by its timeout), fails queued ones, releases everything.
CMM_EXPORT void cmm_group_free(cmm_group* group);

// In-place all-reduce of `count` buffers (each reduced on its own, in order) and returns at once.
// The buffers must stay alive until cmm_work_free returns. timeout_ms bounds each buffer's transfer.
CMM_EXPORT int32_t cmm_allreduce_async(cmm_group* group, void* const* buffers, const int64_t* elements,
                                       const int32_t* dtypes, int32_t count, int32_t op, int64_t timeout_ms,
                                       cmm_work** out);
// CMM_OK once complete; an error if it failed or did not complete within timeout_ms.
CMM_EXPORT int32_t cmm_work_wait(cmm_work* work, int64_t timeout_ms);
// Releases the handle. If the operation is still running this blocks until it no longer touches the
// buffers (its own timeout bounds that); a queued one is cancelled.
CMM_EXPORT void cmm_work_free(cmm_work* work);

// In place: every rank's buffer ends equal to root's.
CMM_EXPORT int32_t cmm_broadcast(cmm_group* group, void* buffer, int64_t elements, int32_t dtype, int32_t root,
                                 int64_t timeout_ms);
// Equal sizes: output holds size * elements, rank r's input at offset r * elements.
CMM_EXPORT int32_t cmm_allgather(cmm_group* group, const void* input, int64_t elements, int32_t dtype, void* output,
                                 int64_t timeout_ms);
// Uneven sizes (Gloo only): rank r sends counts[r] elements; output holds them all in rank order.
CMM_EXPORT int32_t cmm_allgatherv(cmm_group* group, const void* input, const int64_t* counts, int32_t dtype,
                                  void* output, int64_t timeout_ms);
// Gloo only (an NCCL group's barrier is a one-element all-reduce, made by the caller on the device).
CMM_EXPORT int32_t cmm_barrier(cmm_group* group, int64_t timeout_ms);

// Memory of CUDA device `device` as its driver counts it (cuMemGetInfo in the device's primary context, the one
// libtorch uses): bytes in use by every process, the caching allocator's reserve included, and the total. The
// calling thread's current context is left as it was. TorchSharp exposes no CUDA memory statistics.
CMM_EXPORT int32_t cmm_cuda_memory(int32_t device, int64_t* used, int64_t* total);

// Compute capability of CUDA device `device` (8.0 and later do bf16 on tensor cores). Needs no context.
CMM_EXPORT int32_t cmm_cuda_compute_capability(int32_t device, int32_t* major, int32_t* minor);

// Copies `count` buffers of CUDA device `device` to host memory on a stream of its own, after all the work queued so
// far on the null stream (where libtorch's kernels run), and returns when they are there. The null stream is never
// made to wait: training goes on while the copy engine works. The caller keeps the sources unchanged until then (a
// checkpoint snapshot copies its tensors on the device first, then hands those copies here from another thread).
CMM_EXPORT int32_t cmm_cuda_copy_to_host(int32_t device, const uint64_t* sources, void* const* destinations,
                                         const int64_t* bytes, int32_t count);

#ifdef __cplusplus
}
#endif
