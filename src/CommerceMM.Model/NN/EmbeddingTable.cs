using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// nn.Embedding's lookup (one "weight" parameter of shape (count, dim), rows picked by int64 ids).
/// Ours rather than TorchSharp's native Embedding: that one's from_pretrained leaves a different
/// tensor registered as "weight" than the one its forward reads (state dicts then save the wrong
/// weights), and its weight getter makes a new handle on every read; tied heads read it every step.
/// </summary>
public sealed class EmbeddingTable : ExplicitModule
{
    [ComponentName(Name = "weight")] private Parameter _weight;

    /// <param name="weight">(count, dim); the module takes ownership</param>
    public EmbeddingTable(Tensor weight) : base("Embedding")
    {
        if (weight.dim() != 2) throw new ArgumentException($"an embedding table is (count, dim); got {TensorMemory.FormatShape(weight.shape)}", nameof(weight));
        _weight = AddParameter("weight", weight);
    }

    public Parameter Weight => _weight;
    public long Count => _weight.size(0);
    public long Dim => _weight.size(1);

    /// <param name="ids">int64 of any shape</param>
    /// <returns>ids.shape + (dim)</returns>
    public Tensor Forward(Tensor ids) => Lookup(_weight, ids);

    /// <summary>Rows of weight (count, dim) picked by ids: ids.shape + (dim). The gradient scatters back into the picked rows.</summary>
    public static Tensor Lookup(Tensor weight, Tensor ids)
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = [.. ids.shape, weight.size(1)];
        return weight.index_select(0, ids.reshape(-1)).view(shape).MoveToOuterDisposeScope();
    }
}
