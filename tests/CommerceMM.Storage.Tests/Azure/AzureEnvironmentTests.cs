using CommerceMM.Storage.Azure;
using global::Azure.Identity;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>Azure settings from environment variables and files: which credential is chosen, and errors that name the variable, never a secret.</summary>
public sealed class AzureEnvironmentTests : IDisposable
{
    private const string Secret = "c2VjcmV0LXZhbHVlLW5ldmVyLXByaW50ZWQ=";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Read_ConnectionString_TakesEndpointAndKeyAndNamesTheVariable()
    {
        AzureBlobStoreOptions o = AzureBlobStoreEnvironment.Read("ckpt", "checkpoint.container", Env(("CMM_AZURE_CONNECTION_STRING", "UseDevelopmentStorage=true")));

        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), o.ServiceUri);
        Assert.Equal("devstoreaccount1", o.SharedKey!.AccountName);
        Assert.Equal("CMM_AZURE_CONNECTION_STRING (UseDevelopmentStorage)", o.CredentialSetting);
        Assert.Equal("checkpoint.container", o.ContainerSetting);
    }

    [Fact]
    public void Read_ConnectionStringFile_ReadsTheFileAndNamesIt()
    {
        string file = Path.Combine(_dir.Path, "cs");
        File.WriteAllText(file, $"AccountName=acct;AccountKey={Secret};BlobEndpoint=https://acct.blob.core.windows.net\n");

        AzureBlobStoreOptions o = AzureBlobStoreEnvironment.Read("ckpt", getVariable: Env(("CMM_AZURE_CONNECTION_STRING_FILE", file)));

        Assert.Equal("acct", o.SharedKey!.AccountName);
        Assert.Equal($"CMM_AZURE_CONNECTION_STRING_FILE ('{file}') (BlobEndpoint)", o.EndpointSetting);
    }

    [Fact]
    public void Read_EndpointAndSasFile_UsesTheSas()
    {
        string file = Path.Combine(_dir.Path, "sas");
        File.WriteAllText(file, "?sv=2026-06-06&sig=abc\n");

        AzureBlobStoreOptions o = AzureBlobStoreEnvironment.Read("ckpt", getVariable: Env(("CMM_AZURE_BLOB_ENDPOINT", "https://acct.blob.core.windows.net"), ("CMM_AZURE_SAS_FILE", file)));

        Assert.NotNull(o.Sas);
        Assert.Null(o.SharedKey);
        Assert.StartsWith("CMM_AZURE_SAS_FILE", o.CredentialSetting, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://acct.blob.core.windows.net", "acct")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1")]
    public void Read_EndpointAndAccountKey_TakesTheAccountFromTheEndpoint(string endpoint, string account)
    {
        AzureBlobStoreOptions o = AzureBlobStoreEnvironment.Read("ckpt", getVariable: Env(("CMM_AZURE_BLOB_ENDPOINT", endpoint), ("CMM_AZURE_ACCOUNT_KEY", Secret)));

        Assert.Equal(account, o.SharedKey!.AccountName);
    }

    [Fact]
    public void Read_EndpointAlone_UsesDefaultAzureCredentialForAManagedIdentity()
    {
        AzureBlobStoreOptions o = AzureBlobStoreEnvironment.Read("ckpt", getVariable: Env(("CMM_AZURE_BLOB_ENDPOINT", "https://acct.blob.core.windows.net")));

        Assert.IsType<DefaultAzureCredential>(o.TokenCredential);
        Assert.Null(o.SharedKey);
        Assert.Null(o.Sas);
        o.Validate();
    }

    [Fact]
    public void Read_TransferSettings_SetRetriesDelaysTimeoutAndBlocks()
    {
        AzureBlobStoreOptions o = AzureBlobStoreEnvironment.Read("ckpt", getVariable: Env(
            ("CMM_AZURE_CONNECTION_STRING", "UseDevelopmentStorage=true"),
            ("CMM_AZURE_MAX_RETRIES", "3"),
            ("CMM_AZURE_RETRY_DELAY_SECONDS", "0.5"),
            ("CMM_AZURE_MAX_RETRY_DELAY_SECONDS", "4"),
            ("CMM_AZURE_NETWORK_TIMEOUT_SECONDS", "30"),
            ("CMM_AZURE_BLOCK_SIZE_MB", "16"),
            ("CMM_AZURE_PARALLEL_BLOCKS", "8")));

        Assert.Equal(3, o.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(500), o.RetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(4), o.MaxRetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), o.NetworkTimeout);
        Assert.Equal(16 << 20, o.BlockSize);
        Assert.Equal(8, o.MaxParallelBlocks);
        global::Azure.Storage.Blobs.BlobClientOptions sdk = o.ClientOptions(probe: false);
        Assert.Equal((3, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(30)), (sdk.Retry.MaxRetries, sdk.Retry.Delay, sdk.Retry.MaxDelay, sdk.Retry.NetworkTimeout));
        global::Azure.Storage.Blobs.BlobClientOptions probe = o.ClientOptions(probe: true);
        Assert.Equal((2, TimeSpan.FromSeconds(10)), (probe.Retry.MaxRetries, probe.Retry.NetworkTimeout));
    }

    [Theory]
    [InlineData("CMM_AZURE_MAX_RETRIES", "abc", "CMM_AZURE_MAX_RETRIES='abc' is not a whole number")]
    [InlineData("CMM_AZURE_MAX_RETRIES", "2.5", "CMM_AZURE_MAX_RETRIES='2.5' is not a whole number")]
    [InlineData("CMM_AZURE_NETWORK_TIMEOUT_SECONDS", "-1", "CMM_AZURE_NETWORK_TIMEOUT_SECONDS='-1' is not a number")]
    [InlineData("CMM_AZURE_SAS", "sv=1&sig=x", "Both CMM_AZURE_SAS and CMM_AZURE_ACCOUNT_KEY are set")]
    [InlineData("CMM_AZURE_ACCOUNT_KEY_FILE", "/nonexistent/key", "CMM_AZURE_ACCOUNT_KEY_FILE names '/nonexistent/key', which cannot be read")]
    public void Read_BadSetting_ThrowsNamingTheVariableNotTheSecret(string variable, string value, string expected)
    {
        FormatException e = Assert.Throws<FormatException>(() => AzureBlobStoreEnvironment.Read("ckpt", getVariable: Env(
            ("CMM_AZURE_BLOB_ENDPOINT", "https://acct.blob.core.windows.net"),
            ("CMM_AZURE_ACCOUNT_KEY", variable == "CMM_AZURE_ACCOUNT_KEY_FILE" ? null : Secret),
            (variable, value))));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NothingSet_ThrowsNamingTheVariablesToSet()
    {
        FormatException e = Assert.Throws<FormatException>(() => AzureBlobStoreEnvironment.Read("ckpt", getVariable: _ => null));

        Assert.Contains("CMM_AZURE_CONNECTION_STRING", e.Message, StringComparison.Ordinal);
        Assert.Contains("CMM_AZURE_BLOB_ENDPOINT", e.Message, StringComparison.Ordinal);
        Assert.False(AzureBlobStoreEnvironment.IsConfigured(_ => null));
    }

    [Fact]
    public void Read_AccountKeyNotBase64_ThrowsNamingTheVariable()
    {
        FormatException e = Assert.Throws<FormatException>(() => AzureBlobStoreEnvironment.Read("ckpt", getVariable: Env(
            ("CMM_AZURE_BLOB_ENDPOINT", "https://acct.blob.core.windows.net"), ("CMM_AZURE_ACCOUNT_KEY", "not base64 !!"))));

        Assert.Contains("CMM_AZURE_ACCOUNT_KEY", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not base64 !!", e.Message, StringComparison.Ordinal);
    }

    private static Func<string, string?> Env(params (string Name, string? Value)[] variables) =>
        name => variables.LastOrDefault(v => v.Name == name).Value;
}
