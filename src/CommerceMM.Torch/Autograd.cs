using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch;

public static class Autograd
{
    /// <summary>
    /// d(outputs)/d(inputs) without touching the leaves' accumulated gradients. An entry is null when
    /// its input was unused (only with allowUnused).
    /// </summary>
    public static unsafe Tensor?[] Grad(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor>? gradOutputs = null,
                                        bool retainGraph = false, bool createGraph = false, bool allowUnused = false)
    {
        gradOutputs ??= [];
        IntPtr* outs = stackalloc IntPtr[outputs.Count];
        IntPtr* ins = stackalloc IntPtr[inputs.Count];
        IntPtr* gouts = stackalloc IntPtr[gradOutputs.Count];
        IntPtr* results = stackalloc IntPtr[inputs.Count];
        Torch.Fill(outputs, outs);
        Torch.Fill(inputs, ins);
        Torch.Fill(gradOutputs, gouts);
        NativeError.Check(NativeMethods.cmm_autograd_grad(outs, outputs.Count, ins, inputs.Count, gouts, gradOutputs.Count,
            retainGraph, createGraph, allowUnused, results), "autograd.grad");
        GC.KeepAlive(outputs);
        GC.KeepAlive(inputs);
        GC.KeepAlive(gradOutputs);
        var grads = new Tensor?[inputs.Count];
        for (int i = 0; i < grads.Length; i++) grads[i] = Tensor.WrapOptional(results[i]);
        return grads;
    }
}
