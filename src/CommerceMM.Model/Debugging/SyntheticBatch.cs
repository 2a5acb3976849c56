using CommerceMM.Model.Config;
using CommerceMM.Torch;

namespace CommerceMM.Model.Debugging;

/// <summary>
/// A deterministic synthetic batch with the shapes and conventions of the data loader's batches
/// ([CLS] first, [SEP] then padding, varying lengths; pass-2 sources cycling query/photo/listing).
/// Step dumps and the model benchmark use it today; real batches from the loader replace it once the
/// worker exists, and nothing downstream of <see cref="Pairs"/>/<see cref="Omni"/> changes then.
/// </summary>
public sealed class SyntheticBatch : IDisposable
{
    private readonly List<Tensor> _owned = [];

    /// <param name="sourceKinds">per row 0 query (text), 1 photo (image), 2 listing (both); default cycles them</param>
    public SyntheticBatch(CommerceMMConfig config, int rows, ulong seed, int[]? sourceKinds = null)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "a batch needs at least one row");
        using var g = new Generator(seed);
        Pairs = new PairInputs(Own(Images(config, rows, g)), Own(Ids(config, rows, g, out var padding)), Own(padding));
        int[] kinds = sourceKinds ?? Enumerable.Range(0, rows).Select(i => i % 3).ToArray();
        if (kinds.Length != rows || kinds.Any(k => k is < 0 or > 2)) throw new ArgumentException("one source kind (0, 1 or 2) per row", nameof(sourceKinds));
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

    /// <summary>(rows, L) ids: [CLS], random non-special tokens, [SEP], then padding; 4..L-1 real tokens.</summary>
    private static Tensor Ids(CommerceMMConfig c, int rows, Generator g, out Tensor padding)
    {
        int length = c.Text.MaxLength;
        // The lowest ids hold the special pieces in our tokenizer; drawing above all of them keeps
        // [CLS]/[SEP]/[PAD]/[MASK] only where this method puts them.
        int firstOrdinary = new[] { c.Text.PadId, c.Text.ClsId, c.Text.SepId, c.Text.MaskId }.Max() + 1;
        using var random = Torch.Torch.RandInt(firstOrdinary, c.Text.VocabSize, [rows, length], g);
        long[] ids = random.ToArray<long>();
        var pad = new bool[rows * length];
        for (int r = 0; r < rows; r++)
        {
            int used = Math.Min(length, 4 + (r * 5) % Math.Max(1, length - 4));
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
