using CommerceMM.Model.Config;
using CommerceMM.Torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// Every random choice of pass 1 that does not depend on the model: the MLM corruption and the MIM
/// patch mask. Drawn first, from the step's generator, so a dump records them and a rerun with the
/// same generator state reproduces them exactly.
/// </summary>
public sealed class Pass1Plan : IDisposable
{
    private Pass1Plan(Tensor mlmInputIds, Tensor mlmLabels, Tensor patchMask)
    {
        MlmInputIds = mlmInputIds;
        MlmLabels = mlmLabels;
        PatchMask = patchMask;
    }

    /// <summary>(B, L) int64: token ids after [MASK]/random/keep corruption.</summary>
    public Tensor MlmInputIds { get; }

    /// <summary>(B, L) int64: the original id at selected positions, -100 elsewhere.</summary>
    public Tensor MlmLabels { get; }

    /// <summary>(B, N) bool: exactly round(ratio·N) (at least 1) masked patches per image.</summary>
    public Tensor PatchMask { get; }

    public static Pass1Plan Create(CommerceMMConfig config, PairInputs inputs, Generator generator)
    {
        using var scope = DisposeScope.Open();
        if (inputs.SampleSeeds is not { } seeds)
        {
            var (ids, labels) = CorruptForMlm(config, inputs.TokenIds, inputs.Padding, generator);
            var patches = MaskPatches(config.Image, inputs.Rows, generator);
            return new Pass1Plan(scope.MoveToOuter(ids), scope.MoveToOuter(labels), scope.MoveToOuter(patches));
        }
        if (seeds.Length != inputs.Rows) throw new ArgumentException($"{seeds.Length} sample seeds for {inputs.Rows} rows");
        if (seeds.Length == 0) return Create(config, inputs, generator); // nothing to draw either way
        var rowIds = new List<Tensor>(seeds.Length);
        var rowLabels = new List<Tensor>(seeds.Length);
        var rowPatches = new List<Tensor>(seeds.Length);
        for (int r = 0; r < seeds.Length; r++)
        {
            using var rowGenerator = new Generator(seeds[r]);
            var (ids, labels) = CorruptForMlm(config, inputs.TokenIds.Slice(0, r, r + 1), inputs.Padding.Slice(0, r, r + 1), rowGenerator);
            rowIds.Add(ids);
            rowLabels.Add(labels);
            rowPatches.Add(MaskPatches(config.Image, 1, rowGenerator));
        }
        return new Pass1Plan(scope.MoveToOuter(Torch.Torch.Cat(rowIds)), scope.MoveToOuter(Torch.Torch.Cat(rowLabels)),
                             scope.MoveToOuter(Torch.Torch.Cat(rowPatches)));
    }

    /// <summary>BERT's rule: select 15% of real tokens; of those 80% → [MASK], 10% → a random id, 10% kept.</summary>
    private static (Tensor Ids, Tensor Labels) CorruptForMlm(CommerceMMConfig c, Tensor ids, Tensor padding, Generator g)
    {
        using var scope = DisposeScope.Open();
        long[] shape = ids.Shape;
        var special = padding.LogicalOr(ids.Eq(c.Text.ClsId)).LogicalOr(ids.Eq(c.Text.SepId));
        var selected = Torch.Torch.Rand(shape, g).Lt(c.MlmProbability).LogicalAnd(special.LogicalNot());
        var choice = Torch.Torch.Rand(shape, g);
        var randomIds = Torch.Torch.RandInt(0, c.Text.VocabSize, shape, g);
        var maskIds = Torch.Torch.Full(shape, c.Text.MaskId, DType.Int64);
        var corrupted = Torch.Torch.Where(choice.Lt(0.8), maskIds, Torch.Torch.Where(choice.Lt(0.9), randomIds, ids));
        var inputIds = Torch.Torch.Where(selected, corrupted, ids);
        var labels = ids.MaskedFill(selected.LogicalNot(), -100);
        return (scope.MoveToOuter(inputIds), scope.MoveToOuter(labels));
    }

    private static Tensor MaskPatches(ImageConfig image, long rows, Generator g)
    {
        using var scope = DisposeScope.Open();
        int n = image.PatchCount;
        int masked = Math.Clamp((int)Math.Round(image.MaskRatio * n, MidpointRounding.AwayFromZero), 1, n);
        var noise = Torch.Torch.Rand([rows, n], g);
        var threshold = noise.TopK(masked, dim: 1).Values.Slice(1, masked - 1, masked); // (B, 1): the k-th largest
        return scope.MoveToOuter(noise.Ge(threshold));
    }

    public void Dispose()
    {
        MlmInputIds.Dispose();
        MlmLabels.Dispose();
        PatchMask.Dispose();
    }
}
