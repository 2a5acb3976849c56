using CommerceMM.Data.Fashion;
using CommerceMM.Data.Format;
using CommerceMM.Data.Scale;

namespace CommerceMM.Data.Tests.Scale;

public class ScaleDatasetBuilderTests
{
    internal static ScaleDatasetOptions Options(string folder) => new()
    {
        Catalog = new FashionDatasetOptions { OutputDirectory = folder, TrainLimit = 40, EvalLimit = 8, SamplesPerShard = 16, VocabSize = 200, Workers = 2 },
        AudioLimit = 6,
        MissingRates = new Dictionary<string, double> { [Modality.Image] = 0.1, [Modality.Text] = 0.2, [Modality.Table] = 0.2, [Modality.Video] = 0.3 },
    };

    [Fact]
    public async Task BuildAsync_FiveModalities_PresenceRecordedAndReadable()
    {
        using var folder = new TempDirectory("scale");
        var result = await ScaleDatasetBuilder.BuildAsync(Options(folder.Path));
        var manifest = DatasetManifest.Read(folder.Path);
        Assert.Equal(Modality.Known, manifest.Modalities);
        Assert.Equal(SampleSchema.Product, manifest.Stream(StreamNames.Products).Schema);
        Assert.Equal(40, manifest.Stream(StreamNames.Products).Samples);
        Assert.Equal(6, manifest.Counts["train_audio"]);                  // audio only for the first AudioLimit products
        Assert.InRange(manifest.Counts["train_video"], 15, 39);           // ~30% missing
        Assert.False(result.UpToDate);

        using var reader = new ScaleBatchReader(folder.Path, StreamNames.Products, textLength: 24, tableLength: 48);
        using var batch = reader.Read(0, 40);
        bool[] present = batch.Present.data<bool>().ToArray();
        for (int r = 0; r < 40; r++) Assert.Contains(true, present.Skip(r * 5).Take(5));   // never a product without modality
        Assert.Equal(6, Enumerable.Range(0, 40).Count(r => present[r * 5 + 4]));
        bool[] audioPad = batch.AudioPadding.data<bool>().ToArray();
        float[] mel = batch.Audio.data<float>().ToArray();
        int t = (int)batch.AudioPadding.size(1), m = reader.Mels;
        var lengths = Enumerable.Range(0, 40).Select(r => audioPad.Skip(r * t).Take(t).Count(p => !p)).ToList();
        Assert.Equal(lengths.Max(), t);                                   // padded to the batch's longest utterance only
        Assert.InRange(t, 1, reader.MaxAudioFrames);
        int frames0 = lengths[0];
        Assert.InRange(frames0, 20, t);                                   // ~1-3 s of speech at 35 ms hops
        Assert.All(mel.Take(frames0 * m), v => Assert.True(float.IsFinite(v)));
        // Each mel band is standardised over the utterance's real frames (CMVN).
        for (int b = 0; b < m; b++)
        {
            var band = Enumerable.Range(0, frames0).Select(f => (double)mel[f * m + b]).ToArray();
            Assert.Equal(0, band.Average(), 3);
            Assert.InRange(Math.Sqrt(band.Select(v => v * v).Average()), 0.9, 1.001);
        }
        long[] entities = batch.TableEntities.data<long>().ToArray();
        Assert.Contains(11L, entities);                                   // six key/value pairs: entities 0..11

        var again = await ScaleDatasetBuilder.BuildAsync(Options(folder.Path));
        Assert.True(again.UpToDate);
    }

    [Fact]
    public void LogMel_PureTone_PeaksInTheMatchingMelBand()
    {
        const int rate = 22050;
        var samples = Enumerable.Range(0, rate).Select(i => (float)Math.Sin(2 * Math.PI * 1000 * i / rate)).ToArray();
        using var mel = new LogMel(new LogMelOptions(), rate);
        var (values, frames, truncated) = mel.Compute(samples);
        Assert.Equal(1 + (rate - 1024) / 768, frames);
        Assert.False(truncated);
        var bank = LogMel.MelBank(513, 32, rate, 1024);
        int bin = (int)Math.Round(1000.0 * 1024 / rate);
        int expected = Enumerable.Range(0, 32).MaxBy(j => bank[bin * 32 + j]);
        int peak = Enumerable.Range(0, 32).MaxBy(j => values[5 * 32 + j]);
        Assert.Equal(expected, peak);
    }

    [Fact]
    public void Warp_Identity_ReturnsThePhoto()
    {
        var photo = new CommerceMM.Data.Imaging.GrayImage(4, 4, Enumerable.Range(0, 16).Select(i => (byte)(i * 10)).ToArray());
        Assert.Equal(photo.Pixels, ImageAugmenter.Warp(photo, 0, 1, 0, 0).Pixels);
    }
}
