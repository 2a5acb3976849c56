// The all-gather that global-batch contrastive losses need (MODEL.md §5).
//
// Forward: concatenate every rank's rows. Backward: SUM the incoming gradient across ranks, then keep
// this rank's slice. Each rank's loss scores its local rows against all gathered columns, so the
// gradient for my rows as columns lives on the other ranks; summing collects it. With the usual
// averaging all-reduce of parameter gradients, N ranks x B rows then equal 1 rank x N*B rows.
#include "cmm_dist.h"

#include <torch/csrc/autograd/custom_function.h>

namespace {

struct AllGatherWithGrad : public torch::autograd::Function<AllGatherWithGrad> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& local, int64_t group_id,
                            int64_t timeout_ms) {
    auto group = cmm::process_group(group_id);
    std::vector<int64_t> rows;
    auto gathered = cmm::all_gather_rows(group, local, timeout_ms, &rows);
    int64_t start = 0;  // where this rank's rows sit in the gathered tensor, for backward
    for (int r = 0; r < group->getRank(); ++r) start += rows[r];
    ctx->saved_data["group"] = group_id;
    ctx->saved_data["timeout"] = timeout_ms;
    ctx->saved_data["start"] = start;
    ctx->saved_data["rows"] = local.size(0);
    return gathered;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto group = cmm::process_group(ctx->saved_data["group"].toInt());
    const int64_t timeout_ms = ctx->saved_data["timeout"].toInt();
    const int64_t rows = ctx->saved_data["rows"].toInt();
    const int64_t start = ctx->saved_data["start"].toInt();
    // Every rank holds a gradient for all gathered rows; equal shapes everywhere, so all-reduce works directly.
    std::vector<at::Tensor> summed{grads[0].contiguous().clone()};
    cmm::wait(group->allreduce(summed), timeout_ms, "all_gather backward (all_reduce)");
    return {summed[0].slice(0, start, start + rows), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

CMM_EXPORT cmm_tensor cmm_pg_allgather_with_grad(cmm_pg pg, cmm_tensor tensor, int64_t timeout_ms) {
  CMM_TENSOR_FN({
    if (pg == nullptr) throw std::invalid_argument("null process group handle");
    return AllGatherWithGrad::apply(cmm::ref(tensor), pg->id, timeout_ms);
  })
}
