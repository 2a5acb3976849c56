// Element-wise arithmetic (broadcasting, scalar forms), linear algebra and reductions.
#include "cmm_common.h"

#include <cmath>

namespace {
// "x + 3" keeps an int64 tensor int64 (an integral double becomes an integer Scalar); "x + 0.5"
// promotes to float as in PyTorch. Without this every scalar op would turn index tensors into floats.
at::Scalar scalar_for(const at::Tensor& x, double s) {
  if (at::isIntegralType(x.scalar_type(), /*includeBool=*/false) && s == std::floor(s) && std::abs(s) < 9.0e15)
    return at::Scalar(static_cast<int64_t>(s));
  return at::Scalar(s);
}
}  // namespace

#define CMM_BINARY(name, expr)                                          \
  CMM_EXPORT cmm_tensor cmm_tensor_##name(cmm_tensor a, cmm_tensor b) { \
    CMM_TENSOR_FN({                                                     \
      const auto& x = cmm::ref(a);                                      \
      const auto& y = cmm::ref(b);                                      \
      return expr;                                                      \
    })                                                                  \
  }
#define CMM_BINARY_SCALAR(name, expr)                                             \
  CMM_EXPORT cmm_tensor cmm_tensor_##name##_scalar(cmm_tensor a, double value) {  \
    CMM_TENSOR_FN({                                                               \
      const auto& x = cmm::ref(a);                                                \
      const auto s = scalar_for(x, value);                                        \
      return expr;                                                                \
    })                                                                            \
  }
#define CMM_UNARY(name, expr)                                   \
  CMM_EXPORT cmm_tensor cmm_tensor_##name(cmm_tensor a) {       \
    CMM_TENSOR_FN({                                             \
      const auto& x = cmm::ref(a);                              \
      return expr;                                              \
    })                                                          \
  }

CMM_BINARY(add, x + y)
CMM_BINARY(sub, x - y)
CMM_BINARY(mul, x * y)
CMM_BINARY(div, x / y)
CMM_BINARY(pow, x.pow(y))
CMM_BINARY(maximum, at::maximum(x, y))
CMM_BINARY(minimum, at::minimum(x, y))
CMM_BINARY(eq, x.eq(y))
CMM_BINARY(ne, x.ne(y))
CMM_BINARY(lt, x.lt(y))
CMM_BINARY(le, x.le(y))
CMM_BINARY(gt, x.gt(y))
CMM_BINARY(ge, x.ge(y))
CMM_BINARY(logical_and, x.logical_and(y))
CMM_BINARY(logical_or, x.logical_or(y))
CMM_BINARY(matmul, x.matmul(y))
CMM_BINARY(bmm, x.bmm(y))
CMM_BINARY(mm, x.mm(y))

CMM_BINARY_SCALAR(add, x + s)
CMM_BINARY_SCALAR(sub, x - s)
CMM_BINARY_SCALAR(rsub, at::rsub(x, s))
CMM_BINARY_SCALAR(mul, x * s)
CMM_BINARY_SCALAR(div, x / s)
CMM_BINARY_SCALAR(pow, x.pow(s))
CMM_BINARY_SCALAR(eq, x.eq(s))
CMM_BINARY_SCALAR(ne, x.ne(s))
CMM_BINARY_SCALAR(lt, x.lt(s))
CMM_BINARY_SCALAR(le, x.le(s))
CMM_BINARY_SCALAR(gt, x.gt(s))
CMM_BINARY_SCALAR(ge, x.ge(s))

CMM_UNARY(neg, -x)
CMM_UNARY(abs, x.abs())
CMM_UNARY(exp, x.exp())
CMM_UNARY(log, x.log())
CMM_UNARY(sqrt, x.sqrt())
CMM_UNARY(rsqrt, x.rsqrt())
CMM_UNARY(tanh, x.tanh())
CMM_UNARY(sin, x.sin())
CMM_UNARY(cos, x.cos())
CMM_UNARY(sigmoid, x.sigmoid())
CMM_UNARY(relu, x.relu())
CMM_UNARY(logical_not, x.logical_not())
CMM_UNARY(isfinite, x.isfinite())

// The exact (erf) GELU, as PyTorch's default and BERT/ViT use.
CMM_UNARY(gelu, at::gelu(x))

CMM_EXPORT cmm_tensor cmm_tensor_linear(cmm_tensor input, cmm_tensor weight, cmm_tensor bias) {
  CMM_TENSOR_FN({
    c10::optional<at::Tensor> b;
    if (bias != nullptr) b = *bias;
    return at::linear(cmm::ref(input), cmm::ref(weight), b);
  })
}

// min/max bounds are optional: pass has_min/has_max = false to leave a side open.
CMM_EXPORT cmm_tensor cmm_tensor_clamp(cmm_tensor t, bool has_min, double min, bool has_max, double max) {
  CMM_TENSOR_FN({
    c10::optional<at::Scalar> lo, hi;
    if (has_min) lo = min;
    if (has_max) hi = max;
    return cmm::ref(t).clamp(lo, hi);
  })
}

CMM_EXPORT cmm_tensor cmm_tensor_where(cmm_tensor condition, cmm_tensor a, cmm_tensor b) {
  CMM_TENSOR(at::where(cmm::ref(condition), cmm::ref(a), cmm::ref(b)))
}

CMM_EXPORT cmm_tensor cmm_tensor_masked_fill(cmm_tensor t, cmm_tensor mask, double value) {
  CMM_TENSOR(cmm::ref(t).masked_fill(cmm::ref(mask), value))
}

// ---- in-place updates (no result handle) ----------------------------------------------------

CMM_EXPORT int32_t cmm_tensor_add_(cmm_tensor t, cmm_tensor other, double alpha) {
  CMM_STATUS(cmm::ref(t).add_(cmm::ref(other), alpha);)
}
CMM_EXPORT int32_t cmm_tensor_mul_scalar_(cmm_tensor t, double s) { CMM_STATUS(cmm::ref(t).mul_(s);) }
// t = t * (1 - weight) + other * weight, the EMA update used by momentum teachers.
CMM_EXPORT int32_t cmm_tensor_lerp_(cmm_tensor t, cmm_tensor other, double weight) {
  CMM_STATUS(cmm::ref(t).lerp_(cmm::ref(other), weight);)
}

// ---- reductions -----------------------------------------------------------------------------

CMM_EXPORT cmm_tensor cmm_tensor_sum_all(cmm_tensor t) { CMM_TENSOR(cmm::ref(t).sum()) }
CMM_EXPORT cmm_tensor cmm_tensor_mean_all(cmm_tensor t) { CMM_TENSOR(cmm::ref(t).mean()) }
CMM_EXPORT cmm_tensor cmm_tensor_max_all(cmm_tensor t) { CMM_TENSOR(cmm::ref(t).max()) }

CMM_EXPORT cmm_tensor cmm_tensor_sum(cmm_tensor t, const int64_t* dims, int64_t ndim, bool keepdim) {
  CMM_TENSOR(cmm::ref(t).sum(cmm::shape(dims, ndim), keepdim))
}

CMM_EXPORT cmm_tensor cmm_tensor_mean(cmm_tensor t, const int64_t* dims, int64_t ndim, bool keepdim) {
  CMM_TENSOR(cmm::ref(t).mean(cmm::shape(dims, ndim), keepdim))
}

CMM_EXPORT cmm_tensor cmm_tensor_logsumexp(cmm_tensor t, int64_t dim, bool keepdim) {
  CMM_TENSOR(cmm::ref(t).logsumexp(dim, keepdim))
}

// Returns the values; the indices go to *indices (a new handle).
CMM_EXPORT cmm_tensor cmm_tensor_max_dim(cmm_tensor t, int64_t dim, bool keepdim, cmm_tensor* indices) {
  CMM_TRY(nullptr,
    auto result = cmm::ref(t).max(dim, keepdim);
    *indices = cmm::wrap(std::get<1>(result));
    return cmm::wrap(std::get<0>(result));
  )
}

CMM_EXPORT cmm_tensor cmm_tensor_argmax(cmm_tensor t, int64_t dim, bool keepdim) {
  CMM_TENSOR(cmm::ref(t).argmax(dim, keepdim))
}

CMM_EXPORT cmm_tensor cmm_tensor_topk(cmm_tensor t, int64_t k, int64_t dim, bool largest, cmm_tensor* indices) {
  CMM_TRY(nullptr,
    auto result = cmm::ref(t).topk(k, dim, largest, /*sorted=*/true);
    *indices = cmm::wrap(std::get<1>(result));
    return cmm::wrap(std::get<0>(result));
  )
}

// p-norm over dims (all dims when ndim == 0).
CMM_EXPORT cmm_tensor cmm_tensor_norm(cmm_tensor t, double p, const int64_t* dims, int64_t ndim, bool keepdim) {
  CMM_TENSOR_FN({
    const auto& x = cmm::ref(t);
    return ndim == 0 ? at::norm(x, p) : at::norm(x, p, cmm::shape(dims, ndim), keepdim);
  })
}

// L2 normalisation along dim: x / max(||x||, eps), as torch.nn.functional.normalize.
CMM_EXPORT cmm_tensor cmm_tensor_normalize(cmm_tensor t, int64_t dim, double eps) {
  CMM_TENSOR_FN({
    const auto& x = cmm::ref(t);
    return x / at::norm(x, 2, {dim}, true).clamp_min(eps).expand_as(x);
  })
}
