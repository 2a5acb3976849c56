using CommerceMM.Data.Imaging;

namespace CommerceMM.Data.Tests.Imaging;

public class SquareCropTests
{
    private static RgbImage Fill(int width, int height, Func<int, int, (byte R, byte G, byte B)> colour)
    {
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                (pixels[(y * width + x) * 3], pixels[(y * width + x) * 3 + 1], pixels[(y * width + x) * 3 + 2]) = colour(x, y);
        return new RgbImage(width, height, pixels);
    }

    [Fact]
    public void Apply_AWidePhoto_KeepsItsMiddle()
    {
        // Red outer quarters, green middle half: the square of the middle is green (its edge columns a little less: the
        // filter reads just past the crop, as it would resizing first and cropping after).
        var wide = Fill(400, 200, (x, _) => x < 100 || x >= 300 ? ((byte)255, (byte)0, (byte)0) : ((byte)0, (byte)255, (byte)0));

        var square = SquareCrop.Apply(wide, 50);

        Assert.Equal((50, 50), (square.Width, square.Height));
        for (int y = 0; y < 50; y++)
            for (int x = 0; x < 50; x++)
            {
                int at = (y * 50 + x) * 3;
                var (r, g, b) = (square.Pixels[at], square.Pixels[at + 1], square.Pixels[at + 2]);
                if (x is 0 or 49) Assert.True(r <= 40 && g >= 215 && b == 0, $"edge ({x},{y}) = ({r},{g},{b})");
                else Assert.Equal((0, 255, 0), ((int)r, (int)g, (int)b));
            }
    }

    [Fact]
    public void Apply_ShrinkingStripes_AveragesThemInsteadOfAliasing()
    {
        // One-pixel black and white columns: point sampling at 1/4 would give all black or all white.
        var stripes = Fill(400, 400, (x, _) => x % 2 == 0 ? ((byte)0, (byte)0, (byte)0) : ((byte)255, (byte)255, (byte)255));

        var square = SquareCrop.Apply(stripes, 100);

        Assert.All(square.Pixels, p => Assert.InRange(p, 110, 145));
    }

    [Fact]
    public void Apply_Enlarging_InterpolatesBetweenTheSourcePixels()
    {
        var two = Fill(2, 2, (x, _) => x == 0 ? ((byte)0, (byte)0, (byte)0) : ((byte)200, (byte)200, (byte)200));

        var square = SquareCrop.Apply(two, 8);

        byte[] row = Enumerable.Range(0, 8).Select(x => square.Pixels[3 * x]).ToArray();
        Assert.Equal(0, row[0]);
        Assert.Equal(200, row[7]);
        Assert.Equal(row.Order().ToArray(), row);   // rises left to right
        Assert.Equal(100, (row[3] + row[4]) / 2, tolerance: 1);
    }
}
