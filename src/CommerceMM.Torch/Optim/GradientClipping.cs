using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch.Optim;

public static unsafe class GradientClipping
{
    /// <summary>
    /// Scales all gradients by min(1, maxNorm / (‖g‖ + 1e-6)) where ‖g‖ is the global L2 norm over every
    /// parameter's gradient, as torch.nn.utils.clip_grad_norm_. Returns the norm before clipping.
    /// </summary>
    public static double ClipGlobalNorm(IReadOnlyList<Tensor> parameters, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "must be > 0");
        return Call(parameters, (p, n) => NativeMethods.cmm_clip_grad_norm(p, n, maxNorm));
    }

    /// <summary>The global L2 norm of all gradients, without changing them.</summary>
    public static double GlobalNorm(IReadOnlyList<Tensor> parameters) => Call(parameters, NativeMethods.cmm_grad_global_norm);

    private static double Call(IReadOnlyList<Tensor> parameters, NormCall call)
    {
        IntPtr* handles = stackalloc IntPtr[parameters.Count];
        Torch.Fill(parameters, handles);
        double norm = NativeError.CheckDouble(call(handles, parameters.Count));
        GC.KeepAlive(parameters);
        return norm;
    }

    private delegate double NormCall(IntPtr* parameters, long count);
}
