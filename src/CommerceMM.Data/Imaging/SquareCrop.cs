namespace CommerceMM.Data.Imaging;

/// <summary>
/// Brings a photo of any shape to the square the model reads: scaled so its shorter side is the square's side, then
/// its middle cut out (the usual "resize, centre crop" of image pre-training). Shrinking averages every source pixel
/// under a target pixel (a triangle filter as wide as the scale), so thin stripes do not alias into moiré.
/// </summary>
public static class SquareCrop
{
    public static RgbImage Apply(RgbImage source, int side)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        double scale = (double)side / Math.Min(source.Width, source.Height);
        var columns = Filter.For(source.Width, scale, side);
        var rows = Filter.For(source.Height, scale, side);

        // Columns first, over only the source rows the crop reads.
        int firstRow = rows.First, lastRow = rows.Last;
        var wide = new float[(lastRow - firstRow + 1) * side * 3];
        for (int y = firstRow; y <= lastRow; y++)
        {
            int rowStart = y * source.Width * 3, outStart = (y - firstRow) * side * 3;
            for (int x = 0; x < side; x++)
            {
                float r = 0, g = 0, b = 0;
                var (start, weights) = columns.Taps[x];
                for (int k = 0; k < weights.Length; k++)
                {
                    int at = rowStart + (start + k) * 3;
                    float w = weights[k];
                    r += w * source.Pixels[at];
                    g += w * source.Pixels[at + 1];
                    b += w * source.Pixels[at + 2];
                }
                wide[outStart + 3 * x] = r;
                wide[outStart + 3 * x + 1] = g;
                wide[outStart + 3 * x + 2] = b;
            }
        }

        var pixels = new byte[side * side * 3];
        for (int y = 0; y < side; y++)
        {
            var (start, weights) = rows.Taps[y];
            for (int i = 0; i < side * 3; i++)
            {
                float sum = 0;
                for (int k = 0; k < weights.Length; k++) sum += weights[k] * wide[(start + k - firstRow) * side * 3 + i];
                pixels[y * side * 3 + i] = (byte)Math.Clamp((int)MathF.Round(sum), 0, 255);
            }
        }
        return new RgbImage(side, side, pixels);
    }

    /// <summary>For each output pixel on one axis, the first source pixel it reads and the weights (summing to 1).</summary>
    private sealed record Filter((int Start, float[] Weights)[] Taps, int First, int Last)
    {
        public static Filter For(int sourceLength, double scale, int side)
        {
            // The crop's offset in scaled pixels, so the middle of the photo is kept.
            double offset = (sourceLength * scale - side) / 2;
            // Shrinking: the triangle spans one output pixel's worth of source; enlarging: plain linear interpolation.
            double radius = scale < 1 ? 1 / scale : 1;
            var taps = new (int, float[])[side];
            int first = int.MaxValue, last = 0;
            for (int i = 0; i < side; i++)
            {
                double centre = (i + offset + 0.5) / scale;
                int lo = Math.Max(0, (int)Math.Floor(centre - radius)), hi = Math.Min(sourceLength - 1, (int)Math.Ceiling(centre + radius));
                var weights = new float[hi - lo + 1];
                double total = 0;
                for (int s = lo; s <= hi; s++) total += weights[s - lo] = (float)Math.Max(0, 1 - Math.Abs(s + 0.5 - centre) / radius);
                if (total <= 0) { weights = [1f]; hi = lo = Math.Clamp((int)centre, 0, sourceLength - 1); total = 1; }
                for (int k = 0; k < weights.Length; k++) weights[k] = (float)(weights[k] / total);
                taps[i] = (lo, weights);
                first = Math.Min(first, lo);
                last = Math.Max(last, hi);
            }
            return new Filter(taps, first, last);
        }
    }
}
