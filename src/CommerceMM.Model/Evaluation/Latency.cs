using System.Diagnostics;
using CommerceMM.Model.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Evaluation;

/// <summary>Measured seconds per item of each embedding kind: one warm-up forward, then the median of timed ones.</summary>
internal static class Latency
{
    public static double TextSeconds(CommerceMMModel model, QueryRows rows, Allocation a, int batch, int repeats)
    {
        long n = Math.Min(batch, rows.Count);
        using var ids = Head(rows.TokenIds, n, model.Device);
        using var padding = Head(rows.Padding, n, model.Device);
        return Median(n, repeats, () => model.EmbedText(ids, padding, a).Dispose());
    }

    public static double ImageSeconds(CommerceMMModel model, PhotoRows rows, Allocation a, int batch, int repeats)
    {
        long n = Math.Min(batch, rows.Count);
        using var images = Head(rows.Images, n, model.Device);
        return Median(n, repeats, () => model.EmbedImage(images, a).Dispose());
    }

    public static double ProductSeconds(CommerceMMModel model, ProductRows rows, Allocation a, int batch, int repeats)
    {
        long n = Math.Min(batch, rows.Count);
        using var ids = Head(rows.TokenIds, n, model.Device);
        using var padding = Head(rows.Padding, n, model.Device);
        using var images = Head(rows.Images, n, model.Device);
        return Median(n, repeats, () =>
        {
            var (t, v, m) = model.EmbedProduct(ids, padding, images, a);
            t.Dispose();
            v.Dispose();
            m.Dispose();
        });
    }

    /// <summary>The first n rows, on the model's device.</summary>
    private static Tensor Head(Tensor all, long n, Device device)
    {
        using var head = all.narrow(0, 0, n);
        return head.to(device);
    }

    private static double Median(long items, int repeats, Action forward)
    {
        using var noGrad = torch.no_grad();
        forward();   // warm-up: first-call allocations and lazy initialisation are not the steady state
        var seconds = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            forward();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds / items;
        }
        Array.Sort(seconds);
        return repeats % 2 == 1 ? seconds[repeats / 2] : (seconds[repeats / 2 - 1] + seconds[repeats / 2]) / 2;
    }
}
