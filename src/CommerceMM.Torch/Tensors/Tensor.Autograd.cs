using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch;

public sealed partial class Tensor
{
    public bool RequiresGrad
    {
        get => NativeMethods.cmm_tensor_requires_grad(Handle) switch
        {
            < 0 => throw NativeError.Take(),
            var v => v == 1,
        };
        set => NativeError.Check(NativeMethods.cmm_tensor_set_requires_grad(Handle, value));
    }

    public bool IsLeaf => NativeMethods.cmm_tensor_is_leaf(Handle) == 1;

    /// <summary>
    /// The accumulated gradient of a leaf (a new handle sharing the gradient's storage), or null when
    /// none has been accumulated. Dispose it like any tensor. Setting null clears it.
    /// </summary>
    public Tensor? Grad
    {
        get => WrapOptional(NativeMethods.cmm_tensor_grad(Handle)) ?? CheckNoError();
        set => NativeError.Check(NativeMethods.cmm_tensor_set_grad(Handle, value?.Handle ?? TensorHandle.Null));
    }

    private static Tensor? CheckNoError()
    {
        NativeError.ThrowIfAny();
        return null;
    }

    /// <summary>Back-propagates from this tensor (a scalar unless grad is given) into the leaves' gradients.</summary>
    public void Backward(Tensor? grad = null, bool retainGraph = false, bool createGraph = false) =>
        NativeError.Check(NativeMethods.cmm_autograd_backward(Handle, grad?.Handle ?? TensorHandle.Null, retainGraph, createGraph), "backward");

    /// <summary>A tensor sharing storage but cut from the autograd graph.</summary>
    public Tensor Detach() => Wrap(NativeMethods.cmm_tensor_detach(Handle));
}
