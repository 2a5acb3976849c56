using CommerceMM.Data.Imaging;

namespace CommerceMM.Data.Fashion;

/// <summary>
/// Makes other views of a product photo: a "user photo" (stronger: crop, rotation, noise, brightness)
/// or a "listing" view (milder). All randomness comes from the caller's generator, so a view is a pure
/// function of (photo, seed).
/// </summary>
public static class ImageAugmenter
{
    /// <summary>Strength of one augmentation; ranges are symmetric around "no change".</summary>
    public sealed record Strength(double MaxRotationDegrees, double MinScale, double MaxShiftPixels, double BrightnessRange, double NoiseSigma);

    /// <summary>A customer's photo: tilted, cropped, off-centre, under other light, noisy.</summary>
    public static readonly Strength Photo = new(MaxRotationDegrees: 15, MinScale: 0.8, MaxShiftPixels: 2, BrightnessRange: 0.3, NoiseSigma: 8);

    /// <summary>Another seller's listing shot: nearly the same framing.</summary>
    public static readonly Strength Listing = new(MaxRotationDegrees: 5, MinScale: 0.9, MaxShiftPixels: 1, BrightnessRange: 0.1, NoiseSigma: 0);

    public static GrayImage Augment(GrayImage source, Strength strength, DeterministicRandom random)
    {
        double angle = random.NextDouble(-strength.MaxRotationDegrees, strength.MaxRotationDegrees) * Math.PI / 180;
        // Crop = zoom in: output pixels sample a window scale× the frame's size.
        double scale = random.NextDouble(strength.MinScale, 1.0);
        double shiftX = random.NextDouble(-strength.MaxShiftPixels, strength.MaxShiftPixels);
        double shiftY = random.NextDouble(-strength.MaxShiftPixels, strength.MaxShiftPixels);
        double brightness = 1 + random.NextDouble(-strength.BrightnessRange, strength.BrightnessRange);

        return Resample(source, angle, scale, shiftX, shiftY, v =>
        {
            v *= brightness;
            return strength.NoiseSigma > 0 ? v + random.NextGaussian() * strength.NoiseSigma : v;
        });
    }

    /// <summary>
    /// A fixed geometric view: rotate by angle (radians) about the centre, sample a window scale× the
    /// frame (scale &lt; 1 zooms in) shifted by (shiftX, shiftY) pixels. No randomness, no brightness or
    /// noise: video frames are a smooth, deterministic path of such views.
    /// </summary>
    public static GrayImage Warp(GrayImage source, double angle, double scale, double shiftX, double shiftY) =>
        Resample(source, angle, scale, shiftX, shiftY, v => v);

    /// <summary>
    /// Inverse-maps every output pixel (in row-major order, so per-pixel randomness in <paramref name="finish"/>
    /// stays deterministic) to a source position: rotate about the centre, then scale and shift.
    /// </summary>
    private static GrayImage Resample(GrayImage source, double angle, double scale, double shiftX, double shiftY, Func<double, double> finish)
    {
        int w = source.Width, h = source.Height;
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        var output = new byte[w * h];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                double dx = (x - cx) * scale, dy = (y - cy) * scale;
                double v = finish(Bilinear(source, cx + cos * dx + sin * dy + shiftX, cy - sin * dx + cos * dy + shiftY));
                output[y * w + x] = (byte)Math.Clamp(Math.Round(v), 0, 255);
            }
        }
        return new GrayImage(w, h, output);
    }

    /// <summary>Bilinear sample with black outside the frame (the photos' background is black).</summary>
    private static double Bilinear(GrayImage image, double x, double y)
    {
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        return (1 - fy) * ((1 - fx) * At(image, x0, y0) + fx * At(image, x0 + 1, y0))
             + fy * ((1 - fx) * At(image, x0, y0 + 1) + fx * At(image, x0 + 1, y0 + 1));
    }

    private static double At(GrayImage image, int x, int y) =>
        x < 0 || y < 0 || x >= image.Width || y >= image.Height ? 0 : image[x, y];
}
