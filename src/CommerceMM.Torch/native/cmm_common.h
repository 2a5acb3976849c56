// Shared by every translation unit of the C ABI.
//
// Ownership rules for the whole ABI:
//  * A tensor handle (cmm_tensor) is a heap-allocated at::Tensor. Every function that returns one
//    transfers ownership to the caller, who releases it with cmm_tensor_free. A null handle means
//    "undefined tensor" (e.g. a parameter that has no gradient yet) or, for functions documented to
//    return a tensor, an error: the caller then reads cmm_last_error.
//  * Handles passed in are borrowed; the ABI never frees them.
//  * Error text is thread-local. cmm_last_error transfers it to the caller, who frees it with
//    cmm_free_string.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#define CMM_EXPORT extern "C" __attribute__((visibility("default")))

typedef at::Tensor* cmm_tensor;

namespace cmm {

void set_last_error(const std::string& message);
void clear_last_error();

inline cmm_tensor wrap(at::Tensor t) { return new at::Tensor(std::move(t)); }

inline const at::Tensor& ref(cmm_tensor h) {
  if (h == nullptr) throw std::invalid_argument("null tensor handle");
  return *h;
}

inline at::IntArrayRef shape(const int64_t* dims, int64_t ndim) {
  if (ndim < 0 || (ndim > 0 && dims == nullptr)) throw std::invalid_argument("invalid shape argument");
  return at::IntArrayRef(dims, static_cast<size_t>(ndim));
}

// The numeric codes are part of the ABI: C# mirrors them in DType.
inline at::ScalarType scalar_type(int32_t code) {
  switch (code) {
    case 0: return at::kFloat;
    case 1: return at::kBFloat16;
    case 2: return at::kLong;
    case 3: return at::kBool;
    case 4: return at::kDouble;
    case 5: return at::kInt;
    case 6: return at::kByte;
    case 7: return at::kHalf;
    default: throw std::invalid_argument("unknown dtype code " + std::to_string(code));
  }
}

inline int32_t scalar_type_code(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return 0;
    case at::kBFloat16: return 1;
    case at::kLong: return 2;
    case at::kBool: return 3;
    case at::kDouble: return 4;
    case at::kInt: return 5;
    case at::kByte: return 6;
    case at::kHalf: return 7;
    default: return -1;
  }
}

std::vector<at::Tensor> tensor_list(const cmm_tensor* handles, int64_t count);

}  // namespace cmm

// Every export runs its body through one of these, so no C++ exception ever crosses into C#.
// c10::Error's what() carries a backtrace; what_without_backtrace() is the message users need.
#define CMM_TRY(fail_value, ...)                                   \
  cmm::clear_last_error();                                         \
  try {                                                            \
    __VA_ARGS__                                                    \
  } catch (const c10::Error& e) {                                  \
    cmm::set_last_error(e.what_without_backtrace());               \
  } catch (const std::exception& e) {                              \
    cmm::set_last_error(e.what());                                 \
  } catch (...) {                                                  \
    cmm::set_last_error("unknown native exception");               \
  }                                                                \
  return fail_value;

#define CMM_TENSOR(...) CMM_TRY(nullptr, return cmm::wrap(__VA_ARGS__);)
// For bodies with statements: CMM_TENSOR_FN({ ...; return tensor; })
#define CMM_TENSOR_FN(...) CMM_TRY(nullptr, return cmm::wrap([&]() -> at::Tensor __VA_ARGS__());)
#define CMM_VOID(...) CMM_TRY(, __VA_ARGS__ return;)
#define CMM_STATUS(...) CMM_TRY(-1, __VA_ARGS__ return 0;)
