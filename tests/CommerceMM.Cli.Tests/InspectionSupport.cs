using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Tests.Azure;

namespace CommerceMM.Cli.Tests;

/// <summary>
/// One short real job (2 workers, 4 steps, checkpoints every 2), trained once per test class on the shared small corpus
/// for the `cmm checkpoints` tests; tests that break things work on copies of its store.
/// </summary>
public sealed class TrainedJob : IDisposable
{
    public const string Name = "e2e-inspect";
    public const long Steps = 4;
    private readonly Lock _gate = new();
    private string? _runs;

    /// <summary>The file store the job trained into (trained on first use).</summary>
    public string Runs(SmallCorpus corpus)
    {
        lock (_gate)
        {
            if (_runs is not null) return _runs;
            string runs = Directory.CreateTempSubdirectory("cmm-e2e-inspect-").FullName;
            using var cmm = new CmmProcess(["train", "--workers", "2", .. TrainingArgs.Overrides(Name, corpus.Directory, runs, (int)Steps, batch: 4, every: 2)]);
            Assert.True(cmm.WaitForExit(TimeSpan.FromMinutes(5)) == 0, cmm.Output);
            return _runs = runs;
        }
    }

    /// <summary>A private copy of the job's store, to break.</summary>
    public string Copy(SmallCorpus corpus, string to)
    {
        CopyFolder(Runs(corpus), to);
        return to;
    }

    public static void CopyFolder(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public void Dispose()
    {
        if (_runs is not null) Directory.Delete(_runs, recursive: true);
    }
}

/// <summary>Azurite as `cmm` reaches it: a connection string in the environment, and blobs uploaded through our own store.</summary>
internal static class AzuriteForCmm
{
    public static Dictionary<string, string> Environment(AzuriteFixture azurite) => new()
    {
        [AzureBlobStoreEnvironment.ConnectionStringVariable] =
            $"DefaultEndpointsProtocol=http;AccountName={AzureStorageConnectionString.DevelopmentAccountName};AccountKey={AzureStorageConnectionString.DevelopmentAccountKey};BlobEndpoint={azurite.ServiceUri}",
    };

    /// <summary>Every file under <paramref name="folder"/> as a blob under <paramref name="prefix"/> (forward slashes, as the file store names keys).</summary>
    public static async Task UploadFolderAsync(IBlobStore store, string folder, string prefix)
    {
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(folder, file).Replace('\\', '/');
            if (relative.StartsWith(".cmm-store/", StringComparison.Ordinal)) continue; // the file store's own bookkeeping
            await using var content = File.OpenRead(file);
            Assert.True((await store.PutAsync(prefix + relative, content)).Succeeded, relative);
        }
    }

    public static async Task ReplaceAsync(IBlobStore store, string key, byte[] content) =>
        Assert.True((await store.PutAsync(key, new MemoryStream(content))).Succeeded, key);
}
