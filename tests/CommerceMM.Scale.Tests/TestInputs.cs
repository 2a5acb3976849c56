using CommerceMM.Model.Config;
using CommerceMM.Scale.Config;
using CommerceMM.Torch;

namespace CommerceMM.Scale.Tests;

/// <summary>Synthetic SCALE batches with the loader's conventions, small enough for 2 cores.</summary>
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
        var images = Torch.Torch.Randn([rows, c.Image.Channels, c.Image.Size, c.Image.Size], g);
        var video = Torch.Torch.Randn([rows, c.Video.Frames, c.Video.Channels, c.Video.Size, c.Video.Size], g);
        var audio = Torch.Torch.Randn([rows, c.Audio.MaxFrames, c.Audio.Mels], g);
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
            AudioPadding = Own(Torch.Torch.FromArray(audioPadding, rows, c.Audio.MaxFrames)),
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
        return Torch.Torch.FromArray(flat, rows, k);
    }

    /// <summary>[CLS] then entities of 1–2 tokens then [SEP] then padding; entity ids count from 0.</summary>
    private static Tensor Tokens(ScaleConfig c, int rows, int length, Generator g, out Tensor padding, out Tensor entities)
    {
        using var random = Torch.Torch.RandInt(5, c.Text.VocabSize, [rows, length], g);
        long[] ids = random.ToArray<long>();
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
        padding = Torch.Torch.FromArray(pad, rows, length);
        entities = Torch.Torch.FromArray(entity, rows, length);
        return Torch.Torch.FromArray(ids, rows, length);
    }

    private static Tensor Replace(Tensor data, bool[,] present, ScaleModality m, Generator g)
    {
        using var noise = Torch.Torch.Randn(data.Shape, g);
        using var keep = Torch.Torch.FromArray(Enumerable.Range(0, present.GetLength(0)).Select(r => present[r, (int)m]).ToArray());
        var shape = new long[data.Dim];
        Array.Fill(shape, 1L);
        shape[0] = present.GetLength(0);
        using var k = keep.Reshape(shape);
        return Torch.Torch.Where(k, data, noise * 7.0);
    }

    private static Tensor ReplaceIds(ScaleConfig c, Tensor ids, bool[,] present, ScaleModality m, Generator g)
    {
        using var noise = Torch.Torch.RandInt(5, c.Text.VocabSize, ids.Shape, g);
        using var keep = Torch.Torch.FromArray(Enumerable.Range(0, present.GetLength(0)).Select(r => present[r, (int)m]).ToArray());
        using var k = keep.Unsqueeze(1);
        return Torch.Torch.Where(k, ids, noise);
    }

    private Tensor Own(Tensor t)
    {
        _owned.Add(DisposeScope.Detach(t));
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
    }
}
