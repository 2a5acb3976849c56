namespace CommerceMM.Torch.NN;

/// <summary>
/// Multi-head self-attention with PyTorch's parameter layout (a fused in_proj_weight of shape (3d, d),
/// in_proj_bias, and out_proj), so weights load into and from nn.MultiheadAttention unchanged.
/// </summary>
public sealed class MultiheadAttention : Module
{
    private readonly Generator? _dropoutGenerator;

    /// <param name="generator">draws the initial weights</param>
    /// <param name="dropoutGenerator">draws attention-dropout masks for the module's lifetime</param>
    public MultiheadAttention(long dim, long heads, double dropout = 0, Generator? generator = null, Generator? dropoutGenerator = null)
    {
        if (dim <= 0 || heads <= 0 || dim % heads != 0)
            throw new ArgumentException($"attention width {dim} must be a positive multiple of the head count {heads}");
        Dim = dim;
        Heads = heads;
        DropoutP = dropout;
        _dropoutGenerator = dropoutGenerator;
        InProjWeight = RegisterParameter("in_proj_weight", Init.XavierUniform([3 * dim, dim], generator));
        InProjBias = RegisterParameter("in_proj_bias", Torch.Zeros([3 * dim]));
        OutProj = RegisterModule("out_proj", new Linear(dim, dim, generator: generator));
        using (Torch.NoGrad()) OutProj.Bias!.Zero();
    }

    public long Dim { get; }
    public long Heads { get; }
    public double DropoutP { get; }
    public Tensor InProjWeight { get; }
    public Tensor InProjBias { get; }
    public Linear OutProj { get; }

    /// <param name="x">(B, L, d)</param>
    /// <param name="keyPadding">optional (B, L) bool, true at padding positions no query may attend to</param>
    /// <returns>(B, L, d)</returns>
    public Tensor Forward(Tensor x, Tensor? keyPadding = null)
    {
        long[] shape = x.Shape;
        if (shape.Length != 3 || shape[2] != Dim)
            throw new ArgumentException($"attention input must be (batch, length, {Dim}); got {Tensor.FormatShape(shape)}");
        long b = shape[0], l = shape[1], dh = Dim / Heads;
        using var scope = DisposeScope.Open();
        var qkv = Functional.Linear(x, InProjWeight, InProjBias)       // (B, L, 3d)
            .View(b, l, 3, Heads, dh).Permute(2, 0, 3, 1, 4);           // (3, B, h, L, dh)
        var blocked = keyPadding?.View(b, 1, 1, l);                     // (B, 1, 1, L) broadcast over heads and queries
        var context = Functional.Attention(qkv.Select(0, 0), qkv.Select(0, 1), qkv.Select(0, 2), blocked, DropoutP, Training, _dropoutGenerator)
            .Transpose(1, 2).Reshape(b, l, Dim);                        // (B, L, d)
        return scope.MoveToOuter(OutProj.Forward(context));
    }
}
