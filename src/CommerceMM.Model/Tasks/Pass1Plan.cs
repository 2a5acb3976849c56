using CommerceMM.Model.Config;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// Every random choice of pass 1 that does not depend on the model: the MLM corruption and the MIM
/// patch mask. Drawn first, from the step's generator, so a dump records them and a rerun with the
/// same generator state reproduces them exactly. Drawn on the CPU, then moved to the batch's device,
/// so CPU and CUDA runs draw the same masks.
/// </summary>
public sealed class Pass1Plan : IDisposable
{
    private Pass1Plan(Tensor mlmInputIds, Tensor mlmLabels, Tensor patchMask, Tensor mlmPositions, Tensor maskedPatchPositions)
    {
        MlmInputIds = mlmInputIds;
        MlmLabels = mlmLabels;
        PatchMask = patchMask;
        MlmPositions = mlmPositions;
        MaskedPatchPositions = maskedPatchPositions;
    }

    /// <summary>(B, L) int64: token ids after [MASK]/random/keep corruption.</summary>
    public Tensor MlmInputIds { get; }

    /// <summary>(B, L) int64: the original id at selected positions, -100 elsewhere.</summary>
    public Tensor MlmLabels { get; }

    /// <summary>(B, N) bool: exactly round(ratio·N) (at least 1) masked patches per image.</summary>
    public Tensor PatchMask { get; }

    /// <summary>
    /// (S) int64: b·L + t of each selected token, in row-major order. Found on the host, where the plan is drawn, so
    /// that gathering those positions on a GPU needs no boolean indexing (which waits for the device to count them).
    /// </summary>
    public Tensor MlmPositions { get; }

    /// <summary>(M) int64: b·N + n of each masked patch, in row-major order (as <see cref="MlmPositions"/>).</summary>
    public Tensor MaskedPatchPositions { get; }

    /// <summary>S: this rank's selected tokens.</summary>
    public long MlmTokens => MlmPositions.size(0);

    /// <summary>M: this rank's masked patches.</summary>
    public long MaskedPatches => MaskedPatchPositions.size(0);

    public static Pass1Plan Create(CommerceMMConfig config, PairInputs inputs, Generator generator)
    {
        // Seeds for no rows: nothing to draw either way.
        if (inputs.SampleSeeds is { Length: 0 } && inputs.Rows == 0) inputs = inputs with { SampleSeeds = null };
        var device = inputs.TokenIds.device;
        using var scope = torch.NewDisposeScope();
        var ids = inputs.TokenIds.cpu();
        var padding = inputs.Padding.cpu();
        Tensor inputIds, labels, patches;
        if (inputs.SampleSeeds is not { } seeds)
        {
            (inputIds, labels) = CorruptForMlm(config, ids, padding, generator);
            patches = MaskPatches(config.Image, inputs.Rows, generator);
        }
        else
        {
            if (seeds.Length != inputs.Rows) throw new ArgumentException($"{seeds.Length} sample seeds for {inputs.Rows} rows");
            var rowIds = new List<Tensor>(seeds.Length);
            var rowLabels = new List<Tensor>(seeds.Length);
            var rowPatches = new List<Tensor>(seeds.Length);
            for (int r = 0; r < seeds.Length; r++)
            {
                using var rowGenerator = new Generator(seeds[r]);
                var (rowInput, rowLabel) = CorruptForMlm(config, ids.narrow(0, r, 1), padding.narrow(0, r, 1), rowGenerator);
                rowIds.Add(rowInput);
                rowLabels.Add(rowLabel);
                rowPatches.Add(MaskPatches(config.Image, 1, rowGenerator));
            }
            (inputIds, labels, patches) = (torch.cat(rowIds), torch.cat(rowLabels), torch.cat(rowPatches));
        }
        var mlmPositions = labels.Ne(-100).flatten().nonzero().squeeze(1);
        var patchPositions = patches.flatten().nonzero().squeeze(1);
        return new Pass1Plan(inputIds.to(device).MoveToOuterDisposeScope(), labels.to(device).MoveToOuterDisposeScope(),
                             patches.to(device).MoveToOuterDisposeScope(), mlmPositions.to(device).MoveToOuterDisposeScope(),
                             patchPositions.to(device).MoveToOuterDisposeScope());
    }

    /// <summary>BERT's rule: select 15% of real tokens; of those 80% → [MASK], 10% → a random id, 10% kept. CPU tensors.</summary>
    private static (Tensor Ids, Tensor Labels) CorruptForMlm(CommerceMMConfig c, Tensor ids, Tensor padding, Generator g)
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = ids.shape;
        var special = padding.logical_or(ids.Eq(c.Text.ClsId)).logical_or(ids.Eq(c.Text.SepId));
        var selected = torch.rand(shape, ScalarType.Float32, torch.CPU, generator: g).Lt(c.MlmProbability).logical_and(special.logical_not());
        var choice = torch.rand(shape, ScalarType.Float32, torch.CPU, generator: g);
        var randomIds = torch.randint(0, c.Text.VocabSize, shape, ScalarType.Int64, torch.CPU, generator: g);
        var maskIds = HeldScalars.Full(shape, c.Text.MaskId, ScalarType.Int64, torch.CPU);
        var corrupted = torch.where(choice.Lt(0.8), maskIds, torch.where(choice.Lt(0.9), randomIds, ids));
        var inputIds = torch.where(selected, corrupted, ids);
        var labels = ids.MaskedFill(selected.logical_not(), -100);
        return (inputIds.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    private static Tensor MaskPatches(ImageConfig image, long rows, Generator g)
    {
        using var scope = torch.NewDisposeScope();
        int n = image.PatchCount;
        int masked = Math.Clamp((int)Math.Round(image.MaskRatio * n, MidpointRounding.AwayFromZero), 1, n);
        var noise = torch.rand([rows, n], ScalarType.Float32, torch.CPU, generator: g);
        var threshold = noise.topk(masked, dim: 1).values.narrow(1, masked - 1, 1); // (B, 1): the k-th largest
        return noise.ge(threshold).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        MlmInputIds.Dispose();
        MlmLabels.Dispose();
        PatchMask.Dispose();
        MlmPositions.Dispose();
        MaskedPatchPositions.Dispose();
    }
}
