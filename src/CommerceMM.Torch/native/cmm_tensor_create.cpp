// Tensor creation, metadata and raw data access.
#include "cmm_common.h"
#include "cmm_generator.h"

#include <cstring>

namespace {

at::TensorOptions options(int32_t dtype) { return at::TensorOptions().dtype(cmm::scalar_type(dtype)); }

// at:: factories ignore TensorOptions::requires_grad (only torch:: ones honour it), so set it after.
at::Tensor leaf(at::Tensor t, bool requires_grad) {
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

}  // namespace

// Copies nbytes from data; nbytes must equal numel(shape) * element size.
CMM_EXPORT cmm_tensor cmm_tensor_from_buffer(const void* data, int64_t nbytes, const int64_t* dims, int64_t ndim,
                                             int32_t dtype, bool requires_grad) {
  CMM_TENSOR_FN({
    auto t = at::empty(cmm::shape(dims, ndim), options(dtype));
    if (static_cast<int64_t>(t.nbytes()) != nbytes)
      throw std::invalid_argument("buffer holds " + std::to_string(nbytes) + " bytes but shape " +
                                  c10::str(t.sizes()) + " of " + c10::toString(t.scalar_type()) + " needs " +
                                  std::to_string(t.nbytes()));
    if (nbytes > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(nbytes));
    t.set_requires_grad(requires_grad);
    return t;
  })
}

CMM_EXPORT cmm_tensor cmm_tensor_empty(const int64_t* dims, int64_t ndim, int32_t dtype, bool requires_grad) {
  CMM_TENSOR(leaf(at::empty(cmm::shape(dims, ndim), options(dtype)), requires_grad))
}

CMM_EXPORT cmm_tensor cmm_tensor_zeros(const int64_t* dims, int64_t ndim, int32_t dtype, bool requires_grad) {
  CMM_TENSOR(leaf(at::zeros(cmm::shape(dims, ndim), options(dtype)), requires_grad))
}

CMM_EXPORT cmm_tensor cmm_tensor_ones(const int64_t* dims, int64_t ndim, int32_t dtype, bool requires_grad) {
  CMM_TENSOR(leaf(at::ones(cmm::shape(dims, ndim), options(dtype)), requires_grad))
}

CMM_EXPORT cmm_tensor cmm_tensor_full(const int64_t* dims, int64_t ndim, double value, int32_t dtype,
                                      bool requires_grad) {
  CMM_TENSOR(leaf(at::full(cmm::shape(dims, ndim), value, options(dtype)), requires_grad))
}

CMM_EXPORT cmm_tensor cmm_tensor_arange(double start, double end, double step, int32_t dtype) {
  CMM_TENSOR(at::arange(start, end, step, options(dtype)))
}

CMM_EXPORT cmm_tensor cmm_tensor_randn(const int64_t* dims, int64_t ndim, int32_t dtype, cmm_generator gen) {
  CMM_TENSOR(at::randn(cmm::shape(dims, ndim), cmm::generator(gen), options(dtype)))
}

CMM_EXPORT cmm_tensor cmm_tensor_rand(const int64_t* dims, int64_t ndim, int32_t dtype, cmm_generator gen) {
  CMM_TENSOR(at::rand(cmm::shape(dims, ndim), cmm::generator(gen), options(dtype)))
}

CMM_EXPORT cmm_tensor cmm_tensor_randint(int64_t low, int64_t high, const int64_t* dims, int64_t ndim,
                                         cmm_generator gen) {
  CMM_TENSOR(at::randint(low, high, cmm::shape(dims, ndim), cmm::generator(gen), options(2)))
}

CMM_EXPORT cmm_tensor cmm_tensor_randperm(int64_t n, cmm_generator gen) {
  CMM_TENSOR(at::randperm(n, cmm::generator(gen), options(2)))
}

CMM_EXPORT cmm_tensor cmm_tensor_multinomial(cmm_tensor probs, int64_t samples, bool replacement, cmm_generator gen) {
  CMM_TENSOR(at::multinomial(cmm::ref(probs), samples, replacement, cmm::generator(gen)))
}

CMM_EXPORT cmm_tensor cmm_tensor_bernoulli(cmm_tensor probs, cmm_generator gen) {
  CMM_TENSOR(at::bernoulli(cmm::ref(probs), cmm::generator(gen)))
}

// ---- metadata -------------------------------------------------------------------------------

CMM_EXPORT int64_t cmm_tensor_ndim(cmm_tensor t) { CMM_TRY(-1, return cmm::ref(t).dim();) }

// Writes up to capacity sizes into dims; returns the dimension count.
CMM_EXPORT int64_t cmm_tensor_shape(cmm_tensor t, int64_t* dims, int64_t capacity) {
  CMM_TRY(-1,
    const auto sizes = cmm::ref(t).sizes();
    for (size_t i = 0; i < sizes.size() && static_cast<int64_t>(i) < capacity; ++i) dims[i] = sizes[i];
    return static_cast<int64_t>(sizes.size());
  )
}

CMM_EXPORT int32_t cmm_tensor_dtype(cmm_tensor t) {
  CMM_TRY(-1, return cmm::scalar_type_code(cmm::ref(t).scalar_type());)
}

CMM_EXPORT int64_t cmm_tensor_numel(cmm_tensor t) { CMM_TRY(-1, return cmm::ref(t).numel();) }

CMM_EXPORT int32_t cmm_tensor_is_contiguous(cmm_tensor t) { CMM_TRY(-1, return cmm::ref(t).is_contiguous() ? 1 : 0;) }

// Raw storage of a contiguous tensor: valid while the tensor lives. Null (with an error) otherwise.
CMM_EXPORT void* cmm_tensor_data_ptr(cmm_tensor t) {
  CMM_TRY(nullptr,
    const auto& x = cmm::ref(t);
    if (!x.is_contiguous()) throw std::invalid_argument("data_ptr needs a contiguous tensor; call contiguous() first");
    return x.data_ptr();
  )
}

// Copies the tensor (any layout) into a caller buffer of exactly its byte size.
CMM_EXPORT int32_t cmm_tensor_copy_to_buffer(cmm_tensor t, void* data, int64_t nbytes) {
  CMM_STATUS(
    auto x = cmm::ref(t).contiguous();
    if (static_cast<int64_t>(x.nbytes()) != nbytes)
      throw std::invalid_argument("tensor of shape " + c10::str(x.sizes()) + " holds " + std::to_string(x.nbytes()) +
                                  " bytes; buffer has " + std::to_string(nbytes));
    if (nbytes > 0) std::memcpy(data, x.data_ptr(), static_cast<size_t>(nbytes));
  )
}

CMM_EXPORT double cmm_tensor_item(cmm_tensor t) {
  CMM_TRY(std::nan(""),
    const auto& x = cmm::ref(t);
    if (x.numel() != 1) throw std::invalid_argument("item() needs exactly one element, tensor has shape " + c10::str(x.sizes()));
    return x.item<double>();
  )
}
