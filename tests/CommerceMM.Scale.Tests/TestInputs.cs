using CommerceMM.Model.Config;
using CommerceMM.Model.NN;
using CommerceMM.Scale.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Tests;

/// <summary>Synthetic SCALE batches with the loader's conventions, small enough for 2 cores; on the CPU.</summary>
internal sealed class TestInputs : IDisposable
{
    public const int SepTokenId = 3;
    private readonly List<Tensor> _owned = [];

    public static readonly ScaleConfig Small = new ScaleConfig
    {
        Dim = 32, Heads = 2, FfnMultiplier = 2, EmbedDim = 16,
        Text = new TextConfig { VocabSize = 50, MaxLength = 10, Layers = 1 },
        Table = new ScaleTableConfig { MaxLength = 12 },
        Image = new ImageConfig { Size = 8, Patch = 4, Layers = 1 },
        Video = new ScaleVideoConfig { Frames = 3, Size = 8, Pool = 4 },
        Audio = new ScaleAudioConfig { Mels = 6, MaxFrames = 7 },
    }.Validate();

    /// <param name="present">rows × 5 presence; all present when null</param>
    /// <param name="noiseSeed">reseeds the data of missing slots only, so two batches differ just there</param>
    public TestInputs(ScaleConfig c, int rows, ulong seed, bool[,]? present = null, ulong? noiseSeed = null)
    {
        present ??= All(rows);
        using var g = new Generator(seed);
        var images = randn([rows, c.Image.Channels, c.Image.Size, c.Image.Size], device: CPU, generator: g);
        var video = randn([rows, c.Video.Frames, c.Video.Channels, c.Video.Size, c.Video.Size], device: CPU, generator: g);
        var audio = randn([rows, c.Audio.MaxFrames, c.Audio.Mels], device: CPU, generator: g);
        var textIds = Tokens(c, rows, c.Text.MaxLength, g, out var textPadding, out _);
        var tableIds = Tokens(c, rows, c.Table.MaxLength, g, out var tablePadding, out var entities);
        var audioPadding = new bool[rows * c.Audio.MaxFrames];
        for (int r = 0; r < rows; r++)
            for (int t = 3 + r % (c.Audio.MaxFrames - 2); t < c.Audio.MaxFrames; t++) audioPadding[r * c.Audio.MaxFrames + t] = true;
        if (noiseSeed is { } ns)
        {
            using var n = new Generator(ns);
            images = Replace(images, present, ScaleModality.Image, n);
            video = Replace(video, present, ScaleModality.Video, n);
            audio = Replace(audio, present, ScaleModality.Audio, n);
            textIds = ReplaceIds(c, textIds, present, ScaleModality.Text, n);
            tableIds = ReplaceIds(c, tableIds, present, ScaleModality.Table, n);
        }
        Inputs = new ScaleInputs
        {
            Present = Own(Flat(present)),
            Images = Own(images), Video = Own(video), Audio = Own(audio),
            AudioPadding = Own(tensor(audioPadding, [rows, c.Audio.MaxFrames], device: CPU)),
            TextIds = Own(textIds), TextPadding = Own(textPadding),
            TableIds = Own(tableIds), TablePadding = Own(tablePadding), TableEntities = Own(entities),
        };
    }

    public ScaleInputs Inputs { get; }

    public static bool[,] All(int rows)
    {
        var p = new bool[rows, ScaleModalities.Count];
        for (int r = 0; r < rows; r++) for (int m = 0; m < ScaleModalities.Count; m++) p[r, m] = true;
        return p;
    }

    public static Tensor Flat(bool[,] p)
    {
        int rows = p.GetLength(0), k = p.GetLength(1);
        var flat = new bool[rows * k];
        for (int r = 0; r < rows; r++) for (int m = 0; m < k; m++) flat[r * k + m] = p[r, m];
        return tensor(flat, [rows, k], device: CPU);
    }

    /// <summary>[CLS] then entities of 1–2 tokens then [SEP] then padding; entity ids count from 0.</summary>
    private static Tensor Tokens(ScaleConfig c, int rows, int length, Generator g, out Tensor padding, out Tensor entities)
    {
        using var random = randint(5, c.Text.VocabSize, [rows, length], device: CPU, generator: g);
        long[] ids = Scalars.ToArray<long>(random);
        var pad = new bool[rows * length];
        var entity = Enumerable.Repeat(-1L, rows * length).ToArray();
        for (int r = 0; r < rows; r++)
        {
            int used = 4 + (r * 3) % (length - 4);   // 4..length-1 tokens, [CLS] and [SEP] included
            ids[r * length] = c.Text.ClsId;
            for (int t = 1; t < used - 1; t++) entity[r * length + t] = (t - 1) / 2;
            ids[r * length + used - 1] = c.Text.SepId;
            for (int t = used; t < length; t++)
            {
                ids[r * length + t] = c.Text.PadId;
                pad[r * length + t] = true;
            }
        }
        padding = tensor(pad, [rows, length], device: CPU);
        entities = tensor(entity, [rows, length], device: CPU);
        return tensor(ids, [rows, length], device: CPU);
    }

    private static Tensor Replace(Tensor data, bool[,] present, ScaleModality m, Generator g)
    {
        using var scope = NewDisposeScope();
        var noise = randn(data.shape, device: CPU, generator: g);
        var keep = tensor(Enumerable.Range(0, present.GetLength(0)).Select(r => present[r, (int)m]).ToArray(), device: CPU);
        var shape = new long[data.dim()];
        Array.Fill(shape, 1L);
        shape[0] = present.GetLength(0);
        var k = keep.reshape(shape);
        return where(k, data, noise * 7.0).MoveToOuterDisposeScope();
    }

    private static Tensor ReplaceIds(ScaleConfig c, Tensor ids, bool[,] present, ScaleModality m, Generator g)
    {
        using var scope = NewDisposeScope();
        var noise = randint(5, c.Text.VocabSize, ids.shape, device: CPU, generator: g);
        var keep = tensor(Enumerable.Range(0, present.GetLength(0)).Select(r => present[r, (int)m]).ToArray(), device: CPU);
        var k = keep.unsqueeze(1);
        return where(k, ids, noise).MoveToOuterDisposeScope();
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
