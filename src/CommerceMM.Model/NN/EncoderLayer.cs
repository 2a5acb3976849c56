using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// A pre-LN transformer encoder layer: x + Attn(LN(x)), then x + FFN(LN(x)) with a GELU FFN.
/// Parameter names and arithmetic match PyTorch's nn.TransformerEncoderLayer(norm_first=True,
/// activation="gelu", batch_first=True), which the parity test checks. The residual stream stays fp32
/// in a bf16 region; only the matmuls run in bf16.
/// </summary>
public sealed class EncoderLayer : ExplicitModule
{
    private readonly Generator? _dropoutGenerator;

    /// <param name="generator">draws the initial weights</param>
    /// <param name="dropoutGenerator">draws dropout masks for the layer's lifetime (the default generator when null)</param>
    public EncoderLayer(long dim, long heads, long ffnDim, double dropout = 0, double layerNormEps = 1e-5,
                        Generator? generator = null, Generator? dropoutGenerator = null) : base("TransformerEncoderLayer")
    {
        if (dropout is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout probability must be in [0, 1]");
        DropoutP = dropout;
        _dropoutGenerator = dropoutGenerator;
        // Registration order is PyTorch's (its dropout modules hold no state).
        SelfAttention = AddModule("self_attn", new SelfAttention(dim, heads, dropout, generator, dropoutGenerator));
        Linear1 = AddModule("linear1", Layers.Linear(dim, ffnDim, generator));
        Linear2 = AddModule("linear2", Layers.Linear(ffnDim, dim, generator));
        Norm1 = AddModule("norm1", Layers.LayerNorm(dim, layerNormEps));
        Norm2 = AddModule("norm2", Layers.LayerNorm(dim, layerNormEps));
    }

    public double DropoutP { get; }
    public SelfAttention SelfAttention { get; }
    public Linear Linear1 { get; }
    public Linear Linear2 { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }

    /// <summary>Set by a trainer that all-reduces gradients during backward: reports when this layer's gradients are final.</summary>
    public ReadinessProbe? GradientProbe { get; set; }

    /// <param name="x">(B, L, d) fp32</param>
    /// <param name="keyPadding">optional (B, L) bool, true at padding</param>
    /// <returns>(B, L, d) fp32</returns>
    public Tensor Forward(Tensor x, Tensor? keyPadding = null)
    {
        using var scope = torch.NewDisposeScope();
        bool train = training;
        if (GradientProbe is { } probe) x = probe.Mark(x);
        // The residual additions take the bf16 branches as they are: type promotion adds in fp32, and the sum is
        // the same as after an explicit cast, one op fewer each way.
        var attended = SelfAttention.Forward(Norm1.forward(x), keyPadding);
        var h = x.Add(GeneratorDropout.Apply(attended, DropoutP, train, _dropoutGenerator));
        var hidden = GeneratorDropout.Apply(MixedPrecision.Linear(Linear1, Norm2.forward(h)).gelu(), DropoutP, train, _dropoutGenerator);
        var ffn = MixedPrecision.Linear(Linear2, hidden);
        return h.Add(GeneratorDropout.Apply(ffn, DropoutP, train, _dropoutGenerator)).MoveToOuterDisposeScope();
    }
}
