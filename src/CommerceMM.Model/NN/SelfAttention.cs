using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// Multi-head self-attention with PyTorch's parameter layout (a fused in_proj_weight of shape (3d, d),
/// in_proj_bias, and out_proj), so weights load into and from nn.MultiheadAttention unchanged.
/// Ours rather than TorchSharp's: attention dropout draws from an explicit generator, and keys are
/// masked by a padding mask in the batch-first layout.
/// </summary>
public sealed class SelfAttention : ExplicitModule
{
    private readonly Generator? _dropoutGenerator;
    [ComponentName(Name = "in_proj_weight")] private Parameter _inProjWeight;
    [ComponentName(Name = "in_proj_bias")] private Parameter _inProjBias;

    /// <param name="generator">draws the initial weights</param>
    /// <param name="dropoutGenerator">draws attention-dropout masks for the module's lifetime</param>
    public SelfAttention(long dim, long heads, double dropout = 0, Generator? generator = null, Generator? dropoutGenerator = null) : base("MultiheadAttention")
    {
        if (dim <= 0 || heads <= 0 || dim % heads != 0)
            throw new ArgumentException($"attention width {dim} must be a positive multiple of the head count {heads}");
        if (dropout is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout probability must be in [0, 1]");
        Dim = dim;
        Heads = heads;
        DropoutP = dropout;
        _dropoutGenerator = dropoutGenerator;
        _inProjWeight = AddParameter("in_proj_weight", Init.XavierUniform([3 * dim, dim], generator));
        _inProjBias = AddParameter("in_proj_bias", torch.zeros(3 * dim, device: torch.CPU));
        OutProj = AddModule("out_proj", Layers.Linear(dim, dim, generator));
        using (torch.no_grad()) OutProj.bias!.zero_();   // drawn, then zeroed, as PyTorch does
    }

    public long Dim { get; }
    public long Heads { get; }
    public double DropoutP { get; }
    public Parameter InProjWeight => _inProjWeight;
    public Parameter InProjBias => _inProjBias;
    public Linear OutProj { get; }

    /// <param name="x">(B, L, d)</param>
    /// <param name="keyPadding">optional (B, L) bool, true at padding positions no query may attend to</param>
    /// <returns>(B, L, d) in the compute dtype</returns>
    public Tensor Forward(Tensor x, Tensor? keyPadding = null)
    {
        long[] shape = x.shape;
        if (shape.Length != 3 || shape[2] != Dim)
            throw new ArgumentException($"attention input must be (batch, length, {Dim}); got [{string.Join(", ", shape)}]");
        long b = shape[0], l = shape[1], dh = Dim / Heads;
        using var scope = torch.NewDisposeScope();
        // unbind, not three selects: its backward stacks the three gradients into one tensor, where each
        // select's backward would fill a zero tensor of the whole (3, B, h, L, dh) and add them up.
        var qkv = MixedPrecision.Linear(x, _inProjWeight, _inProjBias)   // (B, L, 3d)
            .view(b, l, 3, Heads, dh).permute(2, 0, 3, 1, 4).unbind(0);    // 3 × (B, h, L, dh)
        var blocked = keyPadding?.view(b, 1, 1, l);                        // (B, 1, 1, L) broadcast over heads and queries
        var context = Attention.ScaledDotProduct(qkv[0], qkv[1], qkv[2], blocked, DropoutP, training, _dropoutGenerator)
            .transpose(1, 2).reshape(b, l, Dim);                           // (B, L, d)
        return MixedPrecision.Linear(OutProj, context).MoveToOuterDisposeScope();
    }
}
