#include "dtype.h"

#include <algorithm>

namespace cmm {
namespace {

struct Sum {
  template <typename T> static T apply(T a, T b) { return a + b; }
};
struct Max {
  template <typename T> static T apply(T a, T b) { return std::max(a, b); }
};
struct Min {
  template <typename T> static T apply(T a, T b) { return std::min(a, b); }
};

template <typename T, typename Op>
void reduce(void* out, const void* a, const void* b, size_t n) {
  auto* o = static_cast<T*>(out);
  const auto* x = static_cast<const T*>(a);
  const auto* y = static_cast<const T*>(b);
  for (size_t i = 0; i < n; ++i) o[i] = Op::apply(x[i], y[i]);
}

// bfloat16 reduces in float32 and rounds once per pair, as PyTorch's CPU kernels do.
template <typename Op>
void reduce_bf16(void* out, const void* a, const void* b, size_t n) {
  auto* o = static_cast<BFloat16*>(out);
  const auto* x = static_cast<const BFloat16*>(a);
  const auto* y = static_cast<const BFloat16*>(b);
  for (size_t i = 0; i < n; ++i) o[i] = to_bfloat16(Op::apply(to_float(x[i]), to_float(y[i])));
}

template <typename Op>
ReduceFn for_op(int32_t dtype) {
  switch (dtype) {
    case CMM_FLOAT32: return &reduce<float, Op>;
    case CMM_FLOAT64: return &reduce<double, Op>;
    case CMM_INT64: return &reduce<int64_t, Op>;
    case CMM_INT32: return &reduce<int32_t, Op>;
    case CMM_BFLOAT16: return &reduce_bf16<Op>;
  }
  element_size(dtype);  // throws naming the unknown code
  return nullptr;
}

template <typename T>
void divide_as(void* buffer, size_t n, double divisor) {
  auto* p = static_cast<T*>(buffer);
  const T d = static_cast<T>(divisor);
  for (size_t i = 0; i < n; ++i) p[i] /= d;
}

}  // namespace

ReduceFn reduce_function(int32_t dtype, int32_t op) {
  switch (op) {
    case CMM_SUM:
    case CMM_AVERAGE: return for_op<Sum>(dtype);
    case CMM_MAX: return for_op<Max>(dtype);
    case CMM_MIN: return for_op<Min>(dtype);
  }
  invalid("unknown reduce op code " + std::to_string(op) + " (known: 0 sum, 1 average, 2 max, 3 min)");
}

void divide(void* buffer, size_t elements, int32_t dtype, double divisor) {
  switch (dtype) {
    case CMM_FLOAT32: return divide_as<float>(buffer, elements, divisor);
    case CMM_FLOAT64: return divide_as<double>(buffer, elements, divisor);
    case CMM_BFLOAT16: {
      auto* p = static_cast<BFloat16*>(buffer);
      for (size_t i = 0; i < elements; ++i) p[i] = to_bfloat16(static_cast<float>(to_float(p[i]) / divisor));
      return;
    }
  }
  invalid(std::string("average of ") + dtype_name(dtype) + " buffers is not exact; all-reduce with sum and divide instead");
}

}  // namespace cmm
