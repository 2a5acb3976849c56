// Neural-network functions and losses.
#include "cmm_common.h"
#include "cmm_generator.h"

namespace {
// Codes mirror C# Reduction: 0 none, 1 mean, 2 sum (the same order as at::Reduction).
int64_t reduction(int32_t code) {
  if (code < 0 || code > 2) throw std::invalid_argument("unknown reduction code " + std::to_string(code));
  return code;
}
c10::optional<at::Tensor> optional(cmm_tensor h) {
  if (h == nullptr) return c10::nullopt;
  return *h;
}
}  // namespace

CMM_EXPORT cmm_tensor cmm_tensor_softmax(cmm_tensor t, int64_t dim) { CMM_TENSOR(cmm::ref(t).softmax(dim)) }
CMM_EXPORT cmm_tensor cmm_tensor_log_softmax(cmm_tensor t, int64_t dim) { CMM_TENSOR(cmm::ref(t).log_softmax(dim)) }

CMM_EXPORT cmm_tensor cmm_tensor_layer_norm(cmm_tensor input, const int64_t* normalized_shape, int64_t ndim,
                                            cmm_tensor weight, cmm_tensor bias, double eps) {
  CMM_TENSOR(at::layer_norm(cmm::ref(input), cmm::shape(normalized_shape, ndim), optional(weight), optional(bias), eps))
}

// Inverted dropout with an explicit generator, so masks are reproducible and resumable.
CMM_EXPORT cmm_tensor cmm_tensor_dropout(cmm_tensor input, double p, bool training, cmm_generator gen) {
  CMM_TENSOR_FN({
    const auto& x = cmm::ref(input);
    if (p < 0.0 || p > 1.0) throw std::invalid_argument("dropout probability must be in [0, 1], got " + std::to_string(p));
    if (!training || p == 0.0) return x.alias();
    if (p == 1.0) return x * 0.0;
    auto keep = at::empty_like(x, at::MemoryFormat::Contiguous).bernoulli_(1.0 - p, cmm::generator(gen));
    return x * keep.div_(1.0 - p);
  })
}

CMM_EXPORT cmm_tensor cmm_tensor_embedding(cmm_tensor weight, cmm_tensor indices, int64_t padding_idx) {
  CMM_TENSOR(at::embedding(cmm::ref(weight), cmm::ref(indices), padding_idx))
}

// Scaled dot-product attention over (B, h, L, dh) tensors; mask (broadcastable to B,h,L,L) is true where
// attention is NOT allowed (padding), following nn.MultiheadAttention's key_padding_mask convention.
CMM_EXPORT cmm_tensor cmm_tensor_attention(cmm_tensor q, cmm_tensor k, cmm_tensor v, cmm_tensor blocked,
                                           double dropout_p, bool training, cmm_generator gen) {
  CMM_TENSOR_FN({
    const auto& query = cmm::ref(q);
    // Scale q before the product, dividing as PyTorch does, so results agree to the last bit where BLAS allows.
    auto scores = at::matmul(query / std::sqrt(static_cast<double>(query.size(-1))), cmm::ref(k).transpose(-2, -1));
    if (blocked != nullptr) scores = scores.masked_fill(*blocked, -std::numeric_limits<float>::infinity());
    auto weights = scores.softmax(-1);
    if (training && dropout_p > 0.0) {
      auto keep = at::empty_like(weights).bernoulli_(1.0 - dropout_p, cmm::generator(gen));
      weights = weights * keep.div_(1.0 - dropout_p);
    }
    return at::matmul(weights, cmm::ref(v));
  })
}

CMM_EXPORT cmm_tensor cmm_tensor_cross_entropy(cmm_tensor logits, cmm_tensor target, cmm_tensor class_weight,
                                               int32_t reduction_code, int64_t ignore_index, double label_smoothing) {
  CMM_TENSOR(at::cross_entropy_loss(cmm::ref(logits), cmm::ref(target), optional(class_weight),
                                    reduction(reduction_code), ignore_index, label_smoothing))
}

// KL(target || input) with input given as log-probabilities; reduction 3 is "batchmean".
CMM_EXPORT cmm_tensor cmm_tensor_kl_div(cmm_tensor input, cmm_tensor target, int32_t reduction_code, bool log_target) {
  CMM_TENSOR_FN({
    const auto& x = cmm::ref(input);
    if (reduction_code == 3) return at::kl_div(x, cmm::ref(target), at::Reduction::Sum, log_target) / x.size(0);
    return at::kl_div(x, cmm::ref(target), reduction(reduction_code), log_target);
  })
}

CMM_EXPORT cmm_tensor cmm_tensor_mse_loss(cmm_tensor input, cmm_tensor target, int32_t reduction_code) {
  CMM_TENSOR(at::mse_loss(cmm::ref(input), cmm::ref(target), reduction(reduction_code)))
}

CMM_EXPORT cmm_tensor cmm_tensor_bce_with_logits(cmm_tensor input, cmm_tensor target, cmm_tensor weight,
                                                 cmm_tensor pos_weight, int32_t reduction_code) {
  CMM_TENSOR(at::binary_cross_entropy_with_logits(cmm::ref(input), cmm::ref(target), optional(weight),
                                                  optional(pos_weight), reduction(reduction_code)))
}
