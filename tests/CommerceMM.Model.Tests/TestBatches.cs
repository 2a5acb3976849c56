using CommerceMM.Model.Config;
using CommerceMM.Torch;

namespace CommerceMM.Model.Tests;

/// <summary>Synthetic inputs with the shapes and conventions of the data loader's batches.</summary>
internal sealed class TestBatches : IDisposable
{
    private readonly List<Tensor> _owned = [];

    public TestBatches(CommerceMMConfig config, int rows, ulong seed, int[]? sourceKinds = null)
    {
        using var g = new Generator(seed);
        Pairs = new PairInputs(Own(Images(config, rows, g)), Own(Ids(config, rows, g, out var padding)), Own(padding));
        // Kinds cycle query (text), photo (image), listing (both) unless given.
        int[] kinds = sourceKinds ?? Enumerable.Range(0, rows).Select(i => i % 3).ToArray();
        var hasText = kinds.Select(k => k != 1).ToArray();
        var hasImage = kinds.Select(k => k != 0).ToArray();
        var sourceIds = Ids(config, rows, g, out var sourcePadding);
        Omni = new OmniInputs(
            Own(Torch.Torch.FromArray(hasText)), Own(Torch.Torch.FromArray(hasImage)),
            Own(Images(config, rows, g)), Own(sourceIds), Own(sourcePadding),
            Own(Images(config, rows, g)), Own(Ids(config, rows, g, out var targetPadding)), Own(targetPadding));
    }

    public PairInputs Pairs { get; }
    public OmniInputs Omni { get; }

    private Tensor Own(Tensor t)
    {
        _owned.Add(DisposeScope.Detach(t));
        return t;
    }

    private static Tensor Images(CommerceMMConfig c, int rows, Generator g) =>
        Torch.Torch.Randn([rows, c.Image.Channels, c.Image.Size, c.Image.Size], g);

    /// <summary>[CLS] tokens… [SEP] then padding, with lengths varying per row.</summary>
    private static Tensor Ids(CommerceMMConfig c, int rows, Generator g, out Tensor padding)
    {
        int length = c.Text.MaxLength;
        using var random = Torch.Torch.RandInt(5, c.Text.VocabSize, [rows, length], g);
        long[] ids = random.ToArray<long>();
        var pad = new bool[rows * length];
        for (int r = 0; r < rows; r++)
        {
            int used = 4 + (r * 5) % (length - 4);  // 4..length-1 real tokens
            ids[r * length] = c.Text.ClsId;
            ids[r * length + used - 1] = c.Text.SepId;
            for (int t = used; t < length; t++)
            {
                ids[r * length + t] = c.Text.PadId;
                pad[r * length + t] = true;
            }
        }
        padding = Torch.Torch.FromArray(pad, rows, length);
        return Torch.Torch.FromArray(ids, rows, length);
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
    }
}
