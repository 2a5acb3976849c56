namespace CommerceMM.Torch.NN;

/// <summary>
/// A pre-LN transformer encoder layer: x + Attn(LN(x)), then x + FFN(LN(x)) with a GELU FFN.
/// Parameter names and arithmetic match PyTorch's nn.TransformerEncoderLayer(norm_first=True,
/// activation="gelu", batch_first=True), which the parity test checks.
/// </summary>
public sealed class TransformerEncoderLayer : Module
{
    /// <param name="generator">draws the initial weights</param>
    /// <param name="dropoutGenerator">draws dropout masks for the layer's lifetime (the default generator when null)</param>
    public TransformerEncoderLayer(long dim, long heads, long ffnDim, double dropout = 0, double layerNormEps = 1e-5,
                                   Generator? generator = null, Generator? dropoutGenerator = null)
    {
        SelfAttention = RegisterModule("self_attn", new MultiheadAttention(dim, heads, dropout, generator, dropoutGenerator));
        Linear1 = RegisterModule("linear1", new Linear(dim, ffnDim, generator: generator));
        Dropout = RegisterModule("dropout", new Dropout(dropout, dropoutGenerator));
        Linear2 = RegisterModule("linear2", new Linear(ffnDim, dim, generator: generator));
        Norm1 = RegisterModule("norm1", new LayerNorm(dim, layerNormEps));
        Norm2 = RegisterModule("norm2", new LayerNorm(dim, layerNormEps));
        Dropout1 = RegisterModule("dropout1", new Dropout(dropout, dropoutGenerator));
        Dropout2 = RegisterModule("dropout2", new Dropout(dropout, dropoutGenerator));
    }

    public MultiheadAttention SelfAttention { get; }
    public Linear Linear1 { get; }
    public Dropout Dropout { get; }
    public Linear Linear2 { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }
    public Dropout Dropout1 { get; }
    public Dropout Dropout2 { get; }

    /// <param name="x">(B, L, d)</param>
    /// <param name="keyPadding">optional (B, L) bool, true at padding</param>
    public Tensor Forward(Tensor x, Tensor? keyPadding = null)
    {
        using var scope = DisposeScope.Open();
        var h = x + Dropout1.Forward(SelfAttention.Forward(Norm1.Forward(x), keyPadding));
        var ffn = Linear2.Forward(Dropout.Forward(Linear1.Forward(Norm2.Forward(h)).Gelu()));
        return scope.MoveToOuter(h + Dropout2.Forward(ffn));
    }
}
