// Element types and the reductions Gloo runs on host memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "cmm_collectives.h"
#include "error.h"

namespace cmm {

inline size_t element_size(int32_t dtype) {
  switch (dtype) {
    case CMM_FLOAT32: return 4;
    case CMM_FLOAT64: return 8;
    case CMM_INT64: return 8;
    case CMM_INT32: return 4;
    case CMM_BFLOAT16: return 2;
  }
  invalid("unknown element type code " + std::to_string(dtype) + " (known: 0 float32, 1 float64, 2 int64, 3 int32, 4 bfloat16)");
}

inline const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case CMM_FLOAT32: return "float32";
    case CMM_FLOAT64: return "float64";
    case CMM_INT64: return "int64";
    case CMM_INT32: return "int32";
    case CMM_BFLOAT16: return "bfloat16";
  }
  return "unknown";
}

inline bool is_floating(int32_t dtype) { return dtype == CMM_FLOAT32 || dtype == CMM_FLOAT64 || dtype == CMM_BFLOAT16; }

// bfloat16 is the upper half of a float32; converting back rounds to nearest even, as PyTorch does.
struct BFloat16 {
  uint16_t bits;
};

inline float to_float(BFloat16 v) {
  uint32_t u = static_cast<uint32_t>(v.bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline BFloat16 to_bfloat16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return BFloat16{0x7fc0};  // NaN stays a quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return BFloat16{static_cast<uint16_t>(u >> 16)};
}

// Gloo's reduction signature: out[i] = a[i] (op) b[i]; out may alias a or b.
using ReduceFn = void (*)(void*, const void*, const void*, size_t);

ReduceFn reduce_function(int32_t dtype, int32_t op);

// In place: buffer[i] /= divisor (floating types only; the average of a sum).
void divide(void* buffer, size_t elements, int32_t dtype, double divisor);

}  // namespace cmm
