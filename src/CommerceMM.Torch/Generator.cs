using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch;

/// <summary>
/// An explicit random generator. Every random draw in training (init, dropout, masking, sampling)
/// takes one, so runs are reproducible, and its <see cref="GetState"/> goes into checkpoints so a
/// resumed run draws exactly the numbers the uninterrupted run would have.
/// </summary>
public sealed class Generator : IDisposable
{
    private readonly GeneratorHandle _handle;

    public Generator(ulong seed) => _handle = new GeneratorHandle(NativeError.CheckHandle(NativeMethods.cmm_generator_new(seed)), ownsHandle: true);

    internal GeneratorHandle Handle => _handle.IsClosed ? throw new ObjectDisposedException(nameof(Generator)) : _handle;

    internal static GeneratorHandle HandleOf(Generator? generator) => generator?.Handle ?? GeneratorHandle.Null;

    public void ManualSeed(ulong seed) => NativeError.Check(NativeMethods.cmm_generator_manual_seed(Handle, seed));

    /// <summary>The full generator state as a uint8 tensor (caller disposes).</summary>
    public Tensor GetState() => Tensor.Wrap(NativeMethods.cmm_generator_get_state(Handle));

    public void SetState(Tensor state) => NativeError.Check(NativeMethods.cmm_generator_set_state(Handle, state.Handle), "restoring generator state");

    public void Dispose() => _handle.Dispose();
}
