using CommerceMM.Model.NN;
using CommerceMM.Scale.Config;
using CommerceMM.Scale.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Debugging;

/// <summary>
/// A deterministic synthetic SCALE batch with the loader's conventions (ScaleBatch): [CLS] first, [SEP]
/// then padding, table entities of 1–2 tokens numbered from 0, audio of varying length; and, as the
/// loader does, a missing modality's slots are zeros or all padding. Step dumps use it, like
/// CommerceMM's <see cref="CommerceMM.Model.Debugging.SyntheticBatch"/>. Drawn and kept on the CPU (the
/// step moves it to the model's device), so a dump's batch is the same whatever the device. Owns its tensors.
/// </summary>
public sealed class ScaleSyntheticBatch : IDisposable
{
    private readonly List<Tensor> _owned = [];

    /// <param name="present">rows × 5 given modalities (<see cref="ScaleModality"/> order); <see cref="MixedPresence"/> when null</param>
    public ScaleSyntheticBatch(ScaleConfig config, int rows, ulong seed, bool[,]? present = null)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "a batch needs at least one row");
        present ??= MixedPresence(rows);
        if (present.GetLength(0) != rows || present.GetLength(1) != ScaleModalities.Count)
            throw new ArgumentException($"presence must be {rows} × {ScaleModalities.Count}; got {present.GetLength(0)} × {present.GetLength(1)}", nameof(present));
        Presence = present;
        var c = config;
        using var g = new Generator(seed);
        var images = Features([rows, c.Image.Channels, c.Image.Size, c.Image.Size], ScaleModality.Image, g);
        var video = Features([rows, c.Video.Frames, c.Video.Channels, c.Video.Size, c.Video.Size], ScaleModality.Video, g);
        var audio = Features([rows, c.Audio.MaxFrames, c.Audio.Mels], ScaleModality.Audio, g);
        var (textIds, textPadding, _) = Tokens(c, rows, c.Text.MaxLength, ScaleModality.Text, g);
        var (tableIds, tablePadding, entities) = Tokens(c, rows, c.Table.MaxLength, ScaleModality.Table, g);
        Inputs = new ScaleInputs
        {
            Present = Own(ScalePass.PresenceTensor(present, CPU)),
            Images = Own(images), Video = Own(video), Audio = Own(audio),
            AudioPadding = Own(AudioPadding(c, rows)),
            TextIds = Own(textIds), TextPadding = Own(textPadding),
            TableIds = Own(tableIds), TablePadding = Own(tablePadding), TableEntities = Own(entities),
        };
    }

    public ScaleInputs Inputs { get; }

    /// <summary>The given presence, rows × 5.</summary>
    public bool[,] Presence { get; }

    /// <summary>Every row has every modality.</summary>
    public static bool[,] AllPresent(int rows)
    {
        var p = new bool[rows, ScaleModalities.Count];
        for (int r = 0; r < rows; r++)
            for (int m = 0; m < ScaleModalities.Count; m++) p[r, m] = true;
        return p;
    }

    /// <summary>
    /// Rows in groups of four: complete; lacking one enabled modality; lacking two; having only one. The
    /// modalities left out (or kept) rotate with the group over the enabled ones, so in eight rows
    /// several modalities are missing somewhere while every pair still has two complete rows to
    /// contrast and no row is left without an enabled modality. Disabled modalities stay given: the
    /// model must ignore them by itself.
    /// </summary>
    /// <param name="enabled">the model's modalities; all five when null</param>
    public static bool[,] MixedPresence(int rows, IReadOnlyList<ScaleModality>? enabled = null)
    {
        var p = AllPresent(rows);
        var e = (enabled ?? ScaleModalities.All).OrderBy(m => m).Select(m => (int)m).ToArray();
        int k = e.Length;
        for (int r = 0; r < rows; r++)
        {
            int group = r / 4;
            switch (r % 4)
            {
                case 1 when k > 1:
                    p[r, e[group % k]] = false;
                    break;
                case 2 when k > 2:
                    p[r, e[(group + 1) % k]] = false;
                    p[r, e[(group + 3) % k]] = false;
                    break;
                case 3:
                    foreach (int m in e) p[r, m] = m == e[(group + 1) % k];
                    break;
            }
        }
        return p;
    }

    private bool Has(int row, ScaleModality m) => Presence[row, (int)m];

    /// <summary>Standard normal data; zeros in the rows lacking the modality.</summary>
    private Tensor Features(long[] shape, ScaleModality m, Generator g)
    {
        using var random = randn(shape, dtype: ScalarType.Float32, device: CPU, generator: g);
        float[] data = Scalars.ToArray<float>(random);
        long perRow = data.Length / shape[0];
        for (int r = 0; r < shape[0]; r++)
            if (!Has(r, m)) Array.Clear(data, (int)(r * perRow), (int)perRow);
        return tensor(data, shape, device: CPU);
    }

    /// <summary>
    /// (rows, L) ids: [CLS], 2..L-2 random ordinary tokens, [SEP], then padding; entities pair up the
    /// tokens (key, value, key, …) with a single-token entity every third; rows lacking m are all padding.
    /// </summary>
    private (Tensor Ids, Tensor Padding, Tensor Entities) Tokens(ScaleConfig c, int rows, int length, ScaleModality m, Generator g)
    {
        // The lowest ids hold the special pieces; drawing above them keeps [CLS]/[SEP]/[PAD]/[MASK] where this method puts them.
        int firstOrdinary = new[] { c.Text.PadId, c.Text.ClsId, c.Text.SepId, c.Text.MaskId }.Max() + 1;
        using var random = randint(firstOrdinary, c.Text.VocabSize, [rows, length], device: CPU, generator: g);
        long[] ids = Scalars.ToArray<long>(random);
        var pad = new bool[rows * length];
        var entity = Enumerable.Repeat(-1L, rows * length).ToArray();
        for (int r = 0; r < rows; r++)
        {
            int o = r * length;
            if (!Has(r, m))
            {
                Array.Fill(ids, c.Text.PadId, o, length);
                Array.Fill(pad, true, o, length);
                continue;
            }
            int used = Math.Min(length, 4 + (r * 5) % Math.Max(1, length - 3));   // [CLS] and [SEP] included
            ids[o] = c.Text.ClsId;
            int e = 0, inEntity = 0;
            for (int t = 1; t < used - 1; t++)
            {
                entity[o + t] = e;
                // Entities of two tokens, except every third, which has one.
                if (++inEntity == (e % 3 == 2 ? 1 : 2)) (e, inEntity) = (e + 1, 0);
            }
            ids[o + used - 1] = c.Text.SepId;
            for (int t = used; t < length; t++)
            {
                ids[o + t] = c.Text.PadId;
                pad[o + t] = true;
            }
        }
        return (tensor(ids, [rows, length], device: CPU), tensor(pad, [rows, length], device: CPU), tensor(entity, [rows, length], device: CPU));
    }

    /// <summary>(rows, T) true at padding: row r has 2 + (3r mod (T-1)) frames, a missing row none.</summary>
    private Tensor AudioPadding(ScaleConfig c, int rows)
    {
        int t = c.Audio.MaxFrames;
        var pad = new bool[rows * t];
        for (int r = 0; r < rows; r++)
        {
            int frames = Has(r, ScaleModality.Audio) ? Math.Min(t, 2 + (3 * r) % Math.Max(1, t - 1)) : 0;
            for (int i = frames; i < t; i++) pad[r * t + i] = true;
        }
        return tensor(pad, [rows, t], device: CPU);
    }

    private Tensor Own(Tensor t)
    {
        _owned.Add(t.DetachFromDisposeScope());
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
    }
}
