// Optimizer kernels: one native call per step instead of ~10 per parameter.
// The arithmetic follows torch.optim.AdamW (1.13, single-tensor path) operation by operation, so a
// run started from the same weights matches PyTorch to float32 rounding.
#include "cmm_common.h"

#include <cmath>

// weight_decay is per parameter (0 for biases and norms). step is the 1-based step count after increment.
CMM_EXPORT int32_t cmm_adamw_step(const cmm_tensor* params, const cmm_tensor* exp_avgs, const cmm_tensor* exp_avg_sqs,
                                  const double* weight_decays, int64_t count, int64_t step, double lr, double beta1,
                                  double beta2, double eps) {
  CMM_STATUS(
    if (step < 1) throw std::invalid_argument("AdamW step must be >= 1");
    at::NoGradGuard no_grad;
    const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step));
    const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step));
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    for (int64_t i = 0; i < count; ++i) {
      auto param = cmm::ref(params[i]);
      const auto& grad = param.grad();
      if (!grad.defined()) continue;  // a parameter no task touched this step keeps its value and moments
      auto exp_avg = cmm::ref(exp_avgs[i]);
      auto exp_avg_sq = cmm::ref(exp_avg_sqs[i]);
      param.mul_(1.0 - lr * weight_decays[i]);
      exp_avg.mul_(beta1).add_(grad, 1.0 - beta1);
      exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1.0 - beta2);
      auto denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
      param.addcdiv_(exp_avg, denom, -step_size);
    }
  )
}

// Global L2 norm of all defined gradients (double precision accumulate), as clip_grad_norm_ computes it.
CMM_EXPORT double cmm_grad_global_norm(const cmm_tensor* params, int64_t count) {
  CMM_TRY(std::nan(""),
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> norms;
    for (int64_t i = 0; i < count; ++i) {
      const auto& g = cmm::ref(params[i]).grad();
      if (g.defined()) norms.push_back(at::norm(g, 2));
    }
    if (norms.empty()) return 0.0;
    return at::norm(at::stack(norms), 2).item<double>();
  )
}

// Scales gradients so their global norm is at most max_norm; returns the norm before clipping.
CMM_EXPORT double cmm_clip_grad_norm(const cmm_tensor* params, int64_t count, double max_norm) {
  CMM_TRY(std::nan(""),
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> grads, norms;
    for (int64_t i = 0; i < count; ++i) {
      const auto& g = cmm::ref(params[i]).grad();
      if (g.defined()) { grads.push_back(g); norms.push_back(at::norm(g, 2)); }
    }
    if (grads.empty()) return 0.0;
    auto total = at::norm(at::stack(norms), 2);
    auto coef = (max_norm / (total + 1e-6)).clamp_max(1.0);
    for (auto& g : grads) g.mul_(coef);
    return total.item<double>();
  )
}
