using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch;

// Shape and indexing: views where libtorch makes views (reshape, transpose, slice...), copies otherwise.
public sealed partial class Tensor
{
    public unsafe Tensor Reshape(params long[] shape)
    {
        fixed (long* d = shape) return Wrap(NativeMethods.cmm_tensor_reshape(Handle, d, shape.Length));
    }

    public unsafe Tensor View(params long[] shape)
    {
        fixed (long* d = shape) return Wrap(NativeMethods.cmm_tensor_view(Handle, d, shape.Length));
    }

    public Tensor Transpose(long dim0, long dim1) => Wrap(NativeMethods.cmm_tensor_transpose(Handle, dim0, dim1));

    /// <summary>The transpose of a matrix (the last two dimensions).</summary>
    public Tensor T => Transpose(-2, -1);

    public unsafe Tensor Permute(params long[] dims)
    {
        fixed (long* d = dims) return Wrap(NativeMethods.cmm_tensor_permute(Handle, d, dims.Length));
    }

    /// <summary>Rows start..end (exclusive) along dim; end is clamped like Python slicing.</summary>
    public Tensor Slice(long dim, long start, long end, long step = 1) => Wrap(NativeMethods.cmm_tensor_slice(Handle, dim, start, end, step));

    /// <summary>Drops dim by taking one index of it.</summary>
    public Tensor Select(long dim, long index) => Wrap(NativeMethods.cmm_tensor_select(Handle, dim, index));

    public Tensor IndexSelect(long dim, Tensor index) => Wrap(NativeMethods.cmm_tensor_index_select(Handle, dim, index.Handle));

    public Tensor Gather(long dim, Tensor index) => Wrap(NativeMethods.cmm_tensor_gather(Handle, dim, index.Handle));

    /// <summary>x[mask] for a boolean mask over the leading dimensions: one row per true element.</summary>
    public Tensor MaskedSelectRows(Tensor mask) => Wrap(NativeMethods.cmm_tensor_masked_select_rows(Handle, mask.Handle));

    /// <summary>A copy with x[mask] = values (values broadcast over the selected rows).</summary>
    public Tensor IndexPut(Tensor mask, Tensor values) => Wrap(NativeMethods.cmm_tensor_index_put(Handle, mask.Handle, values.Handle));

    public unsafe Tensor Expand(params long[] shape)
    {
        fixed (long* d = shape) return Wrap(NativeMethods.cmm_tensor_expand(Handle, d, shape.Length));
    }

    public unsafe Tensor Repeat(params long[] repeats)
    {
        fixed (long* d = repeats) return Wrap(NativeMethods.cmm_tensor_repeat(Handle, d, repeats.Length));
    }

    public Tensor Contiguous() => Wrap(NativeMethods.cmm_tensor_contiguous(Handle));
    public Tensor Clone() => Wrap(NativeMethods.cmm_tensor_clone(Handle));
    public Tensor Unsqueeze(long dim) => Wrap(NativeMethods.cmm_tensor_unsqueeze(Handle, dim));
    public Tensor Squeeze(long dim) => Wrap(NativeMethods.cmm_tensor_squeeze(Handle, dim));
    public Tensor Flatten(long startDim = 0, long endDim = -1) => Wrap(NativeMethods.cmm_tensor_flatten(Handle, startDim, endDim));
    public Tensor To(DType dtype) => Wrap(NativeMethods.cmm_tensor_to_dtype(Handle, (int)dtype));
    public Tensor Tril(long diagonal = 0) => Wrap(NativeMethods.cmm_tensor_tril(Handle, diagonal));

    /// <summary>Splits dim into equal chunks (the last may be smaller).</summary>
    public Tensor[] Chunk(int chunks, long dim = 0)
    {
        long size = Size((int)dim);
        long step = (size + chunks - 1) / chunks;
        var parts = new List<Tensor>(chunks);
        for (long start = 0; start < size; start += step) parts.Add(Slice(dim, start, Math.Min(start + step, size)));
        return parts.ToArray();
    }

    // ---- in place ----

    /// <summary>Copies src into this tensor (broadcasting, converting dtype).</summary>
    public Tensor CopyFrom(Tensor src)
    {
        NativeError.Check(NativeMethods.cmm_tensor_copy_(Handle, src.Handle));
        return this;
    }

    public Tensor Fill(double value)
    {
        NativeError.Check(NativeMethods.cmm_tensor_fill_(Handle, value));
        return this;
    }

    public Tensor Zero()
    {
        NativeError.Check(NativeMethods.cmm_tensor_zero_(Handle));
        return this;
    }
}
