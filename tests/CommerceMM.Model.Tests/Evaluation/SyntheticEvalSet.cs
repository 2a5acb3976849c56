using CommerceMM.Model.Config;
using CommerceMM.Model.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Evaluation;

/// <summary>Random products, queries and photos with the loader's shapes and conventions, for shape and determinism tests.</summary>
internal static class SyntheticEvalSet
{
    public static EvalSet Create(CommerceMMConfig config, int products, ulong seed)
    {
        using var g = new Generator(seed);
        int[] self = Enumerable.Range(0, products).ToArray();
        int[] categories = self.Select(i => i % 3).ToArray();
        return new EvalSet(
            Products(config, products, g, categories),
            new QueryRows(Ids(config, products, out var padding), padding, self),
            new PhotoRows(Images(config, products, g), self),
            Products(config, 2 * products, g, Enumerable.Range(0, 2 * products).Select(i => i % 3).ToArray()));
    }

    private static ProductRows Products(CommerceMMConfig c, int n, Generator g, int[] categories) =>
        new(Ids(c, n, out var padding), padding, Images(c, n, g), categories);

    private static Tensor Images(CommerceMMConfig c, int n, Generator g) => torch.randn([n, c.Image.Channels, c.Image.Size, c.Image.Size], generator: g);

    /// <summary>[CLS] 5 6 … [SEP] then padding; row r holds 2 + r % 5 ordinary tokens.</summary>
    private static Tensor Ids(CommerceMMConfig c, int n, out Tensor padding)
    {
        int l = c.Text.MaxLength;
        var ids = new long[n * l];
        var pad = new bool[n * l];
        for (int r = 0; r < n; r++)
        {
            int used = 2 + r % 5;
            ids[r * l] = c.Text.ClsId;
            for (int t = 1; t <= used; t++) ids[r * l + t] = 5 + (r * 7 + t) % (c.Text.VocabSize - 5);
            ids[r * l + used + 1] = c.Text.SepId;
            for (int t = used + 2; t < l; t++) { ids[r * l + t] = c.Text.PadId; pad[r * l + t] = true; }
        }
        padding = torch.tensor(pad, [n, l]);
        return torch.tensor(ids, [n, l]);
    }
}
