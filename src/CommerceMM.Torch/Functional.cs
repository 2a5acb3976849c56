using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch;

/// <summary>Stateless neural-network functions; modules in <c>CommerceMM.Torch.NN</c> call these.</summary>
public static class Functional
{
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_linear(input.Handle, weight.Handle, bias?.Handle ?? TensorHandle.Null));

    public static unsafe Tensor LayerNorm(Tensor input, long[] normalizedShape, Tensor? weight, Tensor? bias, double eps = 1e-5)
    {
        fixed (long* d = normalizedShape)
            return Tensor.Wrap(NativeMethods.cmm_tensor_layer_norm(input.Handle, d, normalizedShape.Length,
                weight?.Handle ?? TensorHandle.Null, bias?.Handle ?? TensorHandle.Null, eps));
    }

    /// <summary>Inverted dropout; masks come from generator so they are reproducible.</summary>
    public static Tensor Dropout(Tensor input, double p, bool training, Generator? generator) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_dropout(input.Handle, p, training, Generator.HandleOf(generator)));

    /// <summary>Rows of weight picked by indices; the padding row gets no gradient (-1: none).</summary>
    public static Tensor Embedding(Tensor weight, Tensor indices, long paddingIdx = -1) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_embedding(weight.Handle, indices.Handle, paddingIdx));

    /// <summary>
    /// softmax(q·kᵀ/√d)·v over (B, heads, L, d) tensors. blocked (broadcastable to B, heads, Lq, Lk) is
    /// true where a query may not attend, e.g. padding keys.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? blocked, double dropoutP = 0, bool training = false, Generator? generator = null) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_attention(q.Handle, k.Handle, v.Handle, blocked?.Handle ?? TensorHandle.Null,
            dropoutP, training, Generator.HandleOf(generator)));
}

/// <summary>How a loss reduces over elements. Values are the native ABI's codes.</summary>
public enum Reduction
{
    None = 0,
    Mean = 1,
    Sum = 2,
    /// <summary>Sum divided by the batch size (KL divergence only), the mathematically correct KL mean.</summary>
    BatchMean = 3,
}

/// <summary>Loss functions with PyTorch's semantics.</summary>
public static class Losses
{
    /// <summary>Cross-entropy over logits (N, C) and int64 class targets (N); targets equal to ignoreIndex count for nothing.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean, long ignoreIndex = -100,
                                      double labelSmoothing = 0, Tensor? classWeight = null) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_cross_entropy(logits.Handle, target.Handle, classWeight?.Handle ?? TensorHandle.Null,
            (int)CheckNotBatchMean(reduction), ignoreIndex, labelSmoothing));

    /// <summary>KL(target ‖ input) with input as log-probabilities (PyTorch's kl_div argument order).</summary>
    public static Tensor KlDiv(Tensor logInput, Tensor target, Reduction reduction = Reduction.BatchMean, bool logTarget = false) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_kl_div(logInput.Handle, target.Handle, (int)reduction, logTarget));

    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_mse_loss(input.Handle, target.Handle, (int)CheckNotBatchMean(reduction)));

    public static Tensor BceWithLogits(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean, Tensor? weight = null, Tensor? posWeight = null) =>
        Tensor.Wrap(NativeMethods.cmm_tensor_bce_with_logits(logits.Handle, target.Handle, weight?.Handle ?? TensorHandle.Null,
            posWeight?.Handle ?? TensorHandle.Null, (int)CheckNotBatchMean(reduction)));

    private static Reduction CheckNotBatchMean(Reduction reduction) =>
        reduction == Reduction.BatchMean ? throw new ArgumentException("BatchMean applies to KlDiv only", nameof(reduction)) : reduction;
}
