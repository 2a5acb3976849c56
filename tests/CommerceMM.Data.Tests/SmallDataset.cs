using CommerceMM.Data.Fashion;

namespace CommerceMM.Data.Tests;

/// <summary>
/// One small real corpus (a few hundred real Fashion-MNIST products, real JPEGs, a real SentencePiece
/// model) built once per test run and shared read-only; tests that damage files work on a copy.
/// </summary>
public static class SmallDataset
{
    public const int TrainProducts = 240;
    public const int EvalProducts = 40;
    public const int SamplesPerShard = 50;

    private static readonly TempDirectory Folder = new("shared");
    private static readonly Lazy<Task<BuildResult>> Build = new(() => FashionDatasetBuilder.BuildAsync(Options(Folder.Path)));

    static SmallDataset()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Folder.Dispose();
        // The test host is sometimes killed before ProcessExit runs; sweep folders of runs long finished
        // (an hour old), never those of a run that may still be going.
        foreach (string stale in Directory.EnumerateDirectories(System.IO.Path.GetTempPath(), "cmm-data-shared-*"))
        {
            try
            {
                if (Directory.GetLastWriteTimeUtc(stale) < DateTime.UtcNow.AddHours(-1)) Directory.Delete(stale, recursive: true);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    public static FashionDatasetOptions Options(string outputDirectory) => new()
    {
        OutputDirectory = outputDirectory,
        TrainLimit = TrainProducts,
        EvalLimit = EvalProducts,
        SamplesPerShard = SamplesPerShard,
        VocabSize = 400,
        Workers = 2,
    };

    public static Task<BuildResult> GetAsync() => Build.Value;
}
