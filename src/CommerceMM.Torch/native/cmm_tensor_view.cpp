// Shape and indexing operations: views where libtorch makes views, copies otherwise.
#include "cmm_common.h"

CMM_EXPORT cmm_tensor cmm_tensor_reshape(cmm_tensor t, const int64_t* dims, int64_t ndim) {
  CMM_TENSOR(cmm::ref(t).reshape(cmm::shape(dims, ndim)))
}

CMM_EXPORT cmm_tensor cmm_tensor_view(cmm_tensor t, const int64_t* dims, int64_t ndim) {
  CMM_TENSOR(cmm::ref(t).view(cmm::shape(dims, ndim)))
}

CMM_EXPORT cmm_tensor cmm_tensor_transpose(cmm_tensor t, int64_t dim0, int64_t dim1) {
  CMM_TENSOR(cmm::ref(t).transpose(dim0, dim1))
}

CMM_EXPORT cmm_tensor cmm_tensor_permute(cmm_tensor t, const int64_t* dims, int64_t ndim) {
  CMM_TENSOR(cmm::ref(t).permute(cmm::shape(dims, ndim)))
}

CMM_EXPORT cmm_tensor cmm_tensor_slice(cmm_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  CMM_TENSOR(cmm::ref(t).slice(dim, start, end, step))
}

CMM_EXPORT cmm_tensor cmm_tensor_select(cmm_tensor t, int64_t dim, int64_t index) {
  CMM_TENSOR(cmm::ref(t).select(dim, index))
}

CMM_EXPORT cmm_tensor cmm_tensor_index_select(cmm_tensor t, int64_t dim, cmm_tensor index) {
  CMM_TENSOR(cmm::ref(t).index_select(dim, cmm::ref(index)))
}

CMM_EXPORT cmm_tensor cmm_tensor_gather(cmm_tensor t, int64_t dim, cmm_tensor index) {
  CMM_TENSOR(cmm::ref(t).gather(dim, cmm::ref(index)))
}

// Boolean-mask selection (x[mask]): a copy with one row per true element of the mask.
CMM_EXPORT cmm_tensor cmm_tensor_masked_select_rows(cmm_tensor t, cmm_tensor mask) {
  CMM_TENSOR(cmm::ref(t).index({cmm::ref(mask)}))
}

CMM_EXPORT cmm_tensor cmm_tensor_cat(const cmm_tensor* tensors, int64_t count, int64_t dim) {
  CMM_TENSOR(at::cat(cmm::tensor_list(tensors, count), dim))
}

CMM_EXPORT cmm_tensor cmm_tensor_stack(const cmm_tensor* tensors, int64_t count, int64_t dim) {
  CMM_TENSOR(at::stack(cmm::tensor_list(tensors, count), dim))
}

CMM_EXPORT cmm_tensor cmm_tensor_expand(cmm_tensor t, const int64_t* dims, int64_t ndim) {
  CMM_TENSOR(cmm::ref(t).expand(cmm::shape(dims, ndim)))
}

CMM_EXPORT cmm_tensor cmm_tensor_repeat(cmm_tensor t, const int64_t* dims, int64_t ndim) {
  CMM_TENSOR(cmm::ref(t).repeat(cmm::shape(dims, ndim)))
}

CMM_EXPORT cmm_tensor cmm_tensor_contiguous(cmm_tensor t) { CMM_TENSOR(cmm::ref(t).contiguous()) }
CMM_EXPORT cmm_tensor cmm_tensor_clone(cmm_tensor t) { CMM_TENSOR(cmm::ref(t).clone()) }
CMM_EXPORT cmm_tensor cmm_tensor_unsqueeze(cmm_tensor t, int64_t dim) { CMM_TENSOR(cmm::ref(t).unsqueeze(dim)) }
CMM_EXPORT cmm_tensor cmm_tensor_squeeze(cmm_tensor t, int64_t dim) { CMM_TENSOR(cmm::ref(t).squeeze(dim)) }

CMM_EXPORT cmm_tensor cmm_tensor_flatten(cmm_tensor t, int64_t start_dim, int64_t end_dim) {
  CMM_TENSOR(cmm::ref(t).flatten(start_dim, end_dim))
}

CMM_EXPORT cmm_tensor cmm_tensor_to_dtype(cmm_tensor t, int32_t dtype) {
  CMM_TENSOR(cmm::ref(t).to(cmm::scalar_type(dtype)))
}

CMM_EXPORT cmm_tensor cmm_tensor_tril(cmm_tensor t, int64_t diagonal) { CMM_TENSOR(cmm::ref(t).tril(diagonal)) }

// Copies src into dst (broadcasting) in place; autograd records it like PyTorch's copy_.
CMM_EXPORT int32_t cmm_tensor_copy_(cmm_tensor dst, cmm_tensor src) {
  CMM_STATUS(cmm::ref(dst).copy_(cmm::ref(src));)
}

CMM_EXPORT int32_t cmm_tensor_fill_(cmm_tensor t, double value) { CMM_STATUS(cmm::ref(t).fill_(value);) }
CMM_EXPORT int32_t cmm_tensor_zero_(cmm_tensor t) { CMM_STATUS(cmm::ref(t).zero_();) }

// dst[index] = src along dim 0 rows, used to scatter masked-patch embeddings (non-accumulating).
CMM_EXPORT cmm_tensor cmm_tensor_index_put(cmm_tensor t, cmm_tensor mask, cmm_tensor values) {
  CMM_TENSOR(cmm::ref(t).index_put({cmm::ref(mask)}, cmm::ref(values)))
}
