using CommerceMM.Data.Fashion;

namespace CommerceMM.Data.Tests.Fashion;

public class FashionMnistReaderTests
{
    [Fact]
    public void Read_DebianPackage_ReturnsGrey28x28PhotosWithLabels()
    {
        var photos = FashionMnistReader.Read(FashionMnistReader.DefaultDirectory, FashionSplit.Train, limit: 100);

        Assert.Equal(100, photos.Count);
        Assert.All(photos, p => Assert.Equal((28, 28), (p.Image.Width, p.Image.Height)));
        Assert.All(photos, p => Assert.InRange(p.Label, 0, 9));
        Assert.Equal(9, photos[0].Label); // the first training photo is an ankle boot
    }

    [Fact]
    public void Read_MissingFolder_ErrorNamesDebianPackage()
    {
        using var empty = new TempDirectory("nofm");
        var error = Assert.Throws<FileNotFoundException>(() => FashionMnistReader.Read(empty.Path, FashionSplit.Train));
        Assert.Contains("dataset-fashion-mnist", error.Message);
    }

    [Fact]
    public void Read_NotIdx_ThrowsInvalidData()
    {
        using var dir = new TempDirectory("badidx");
        var (images, labels) = FashionMnistReader.Files(dir.Path, FashionSplit.Test);
        foreach (string f in new[] { images, labels })
        {
            using var gz = new System.IO.Compression.GZipStream(File.Create(f), System.IO.Compression.CompressionLevel.Fastest);
            gz.Write("not an idx file at all"u8);
        }
        var error = Assert.Throws<InvalidDataException>(() => FashionMnistReader.Read(dir.Path, FashionSplit.Test));
        Assert.Contains("IDX", error.Message);
    }
}
