using CommerceMM.Model.NN;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Model.Encoders;

/// <summary>
/// Pre-LN transformer layers plus the final LayerNorm. Modality randomization runs only the first
/// <c>depth</c> layers, always followed by the final norm, so heads see normalised features at every depth.
/// </summary>
public sealed class EncoderStack : ExplicitModule
{
    public EncoderStack(int layers, int dim, int heads, int ffnDim, double dropout, Generator generator, Generator dropoutGenerator) : base(nameof(EncoderStack))
    {
        Layers = AddModule("layers", new ModuleList<EncoderLayer>(
            Enumerable.Range(0, layers).Select(_ => new EncoderLayer(dim, heads, ffnDim, dropout, generator: generator, dropoutGenerator: dropoutGenerator)).ToArray()));
        Norm = AddModule("norm", NN.Layers.LayerNorm(dim));
    }

    public ModuleList<EncoderLayer> Layers { get; }
    public LayerNorm Norm { get; }

    /// <param name="x">(B, L, d)</param>
    /// <param name="padding">(B, L) bool, true at padding; null when nothing is padded</param>
    public Tensor Forward(Tensor x, Tensor? padding, int depth)
    {
        if (depth < 1 || depth > Layers.Count) throw new ArgumentOutOfRangeException(nameof(depth), depth, $"this encoder has 1..{Layers.Count} layers");
        using var scope = torch.NewDisposeScope();
        var h = x;
        for (int i = 0; i < depth; i++) h = Layers[i].Forward(h, padding);
        return Norm.forward(h).MoveToOuterDisposeScope();
    }
}
