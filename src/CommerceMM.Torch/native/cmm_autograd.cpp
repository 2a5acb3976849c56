// Autograd: backward, grad, leaf flags and grad mode.
#include "cmm_common.h"

#include <torch/csrc/autograd/autograd.h>

// grad may be null for a scalar output (implicit ones).
CMM_EXPORT int32_t cmm_autograd_backward(cmm_tensor output, cmm_tensor grad, bool retain_graph, bool create_graph) {
  CMM_STATUS(
    std::vector<at::Tensor> grads;
    if (grad != nullptr) grads.push_back(*grad);
    torch::autograd::backward({cmm::ref(output)}, grads, retain_graph, create_graph);
  )
}

// Writes one new handle per input into results (null where an input was unused and allow_unused).
CMM_EXPORT int32_t cmm_autograd_grad(const cmm_tensor* outputs, int64_t n_outputs, const cmm_tensor* inputs,
                                     int64_t n_inputs, const cmm_tensor* grad_outputs, int64_t n_grad_outputs,
                                     bool retain_graph, bool create_graph, bool allow_unused, cmm_tensor* results) {
  CMM_STATUS(
    auto grads = torch::autograd::grad(cmm::tensor_list(outputs, n_outputs), cmm::tensor_list(inputs, n_inputs),
                                       cmm::tensor_list(grad_outputs, n_grad_outputs), retain_graph, create_graph,
                                       allow_unused);
    for (size_t i = 0; i < grads.size(); ++i) results[i] = grads[i].defined() ? cmm::wrap(grads[i]) : nullptr;
  )
}

CMM_EXPORT int32_t cmm_tensor_requires_grad(cmm_tensor t) { CMM_TRY(-1, return cmm::ref(t).requires_grad() ? 1 : 0;) }

CMM_EXPORT int32_t cmm_tensor_set_requires_grad(cmm_tensor t, bool requires_grad) {
  CMM_STATUS(cmm::ref(t).set_requires_grad(requires_grad);)
}

// The accumulated gradient of a leaf, or null when none has been accumulated (not an error).
CMM_EXPORT cmm_tensor cmm_tensor_grad(cmm_tensor t) {
  CMM_TRY(nullptr,
    const auto& g = cmm::ref(t).grad();
    return g.defined() ? cmm::wrap(g) : nullptr;
  )
}

// Replaces the gradient; null clears it (set_to_none, as PyTorch's zero_grad default).
CMM_EXPORT int32_t cmm_tensor_set_grad(cmm_tensor t, cmm_tensor grad) {
  CMM_STATUS(cmm::ref(t).mutable_grad() = grad == nullptr ? at::Tensor() : *grad;)
}

CMM_EXPORT cmm_tensor cmm_tensor_detach(cmm_tensor t) { CMM_TENSOR(cmm::ref(t).detach()) }

CMM_EXPORT int32_t cmm_tensor_is_leaf(cmm_tensor t) { CMM_TRY(-1, return cmm::ref(t).is_leaf() ? 1 : 0;) }

// Grad mode is thread-local in libtorch; returns the previous setting so scopes can restore it.
CMM_EXPORT int32_t cmm_set_grad_enabled(bool enabled) {
  const bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(enabled);
  return previous ? 1 : 0;
}

CMM_EXPORT int32_t cmm_is_grad_enabled() { return c10::GradMode::is_enabled() ? 1 : 0; }
