using CommerceMM.Model.Config;
using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Debugging;

/// <summary>
/// A deterministic synthetic batch with the shapes and conventions of the data loader's batches
/// ([CLS] first, [SEP] then padding, varying lengths; pass-2 sources cycling query/photo/listing).
/// Step dumps and the model benchmark use it today; real batches from the loader replace it once the
/// worker exists, and nothing downstream of <see cref="Pairs"/>/<see cref="Omni"/> changes then.
/// Drawn on the CPU (the same batch on any device), then moved to <c>device</c>.
/// </summary>
public sealed class SyntheticBatch : IDisposable
{
    private readonly List<Tensor> _owned = [];
    private readonly Device _device;

    /// <param name="sourceKinds">per row 0 query (text), 1 photo (image), 2 listing (both); default cycles them</param>
    /// <param name="device">where the batch lives (the model's device); the CPU when null</param>
    public SyntheticBatch(CommerceMMConfig config, int rows, ulong seed, int[]? sourceKinds = null, Device? device = null)
    {
        _device = device ?? torch.CPU;
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "a batch needs at least one row");
        using var g = new Generator(seed);
        Pairs = new PairInputs(Own(Images(config, rows, g)), Own(Ids(config, rows, g, out var padding)), Own(padding));
        int[] kinds = sourceKinds ?? Enumerable.Range(0, rows).Select(i => i % 3).ToArray();
        if (kinds.Length != rows || kinds.Any(k => k is < 0 or > 2)) throw new ArgumentException("one source kind (0, 1 or 2) per row", nameof(sourceKinds));
        var hasText = kinds.Select(k => k != 1).ToArray();
        var hasImage = kinds.Select(k => k != 0).ToArray();
        var sourceIds = Ids(config, rows, g, out var sourcePadding);
        Omni = new OmniInputs(
            Own(torch.tensor(hasText, device: torch.CPU)), Own(torch.tensor(hasImage, device: torch.CPU)),
            Own(Images(config, rows, g)), Own(sourceIds), Own(sourcePadding),
            Own(Images(config, rows, g)), Own(Ids(config, rows, g, out var targetPadding)), Own(targetPadding));
    }

    public PairInputs Pairs { get; }
    public OmniInputs Omni { get; }

    private Tensor Own(Tensor t)
    {
        using var cpu = t;
        var moved = t.to(_device).DetachFromDisposeScope();
        _owned.Add(moved);
        return moved;
    }

    private static Tensor Images(CommerceMMConfig c, int rows, Generator g) =>
        torch.randn([rows, c.Image.Channels, c.Image.Size, c.Image.Size], ScalarType.Float32, torch.CPU, generator: g);

    /// <summary>(rows, L) ids: [CLS], random non-special tokens, [SEP], then padding; 4..L-1 real tokens.</summary>
    private static Tensor Ids(CommerceMMConfig c, int rows, Generator g, out Tensor padding)
    {
        int length = c.Text.MaxLength;
        // The lowest ids hold the special pieces in our tokenizer; drawing above all of them keeps
        // [CLS]/[SEP]/[PAD]/[MASK] only where this method puts them.
        int firstOrdinary = new[] { c.Text.PadId, c.Text.ClsId, c.Text.SepId, c.Text.MaskId }.Max() + 1;
        using var random = torch.randint(firstOrdinary, c.Text.VocabSize, [rows, length], ScalarType.Int64, torch.CPU, generator: g);
        long[] ids = Scalars.ToArray<long>(random);
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
        padding = torch.tensor(pad, [rows, length], device: torch.CPU);
        return torch.tensor(ids, [rows, length], device: torch.CPU);
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
    }
}
