using CommerceMM.Storage.Azure;
using global::Azure.Storage;

namespace CommerceMM.Storage.Tests.Azure;

public sealed class AzureConnectionStringTests
{
    [Fact]
    public void Apply_UseDevelopmentStorage_TargetsAzuriteDefaultAccount()
    {
        var options = new AzureBlobStoreOptions();

        AzureStorageConnectionString.Apply("UseDevelopmentStorage=true", options);

        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), options.ServiceUri);
        Assert.Equal("devstoreaccount1", options.SharedKey!.AccountName);
        Assert.Null(options.Sas);
    }

    [Fact]
    public void Apply_AccountNameAndKeyOnly_BuildsPublicEndpoint()
    {
        var options = new AzureBlobStoreOptions();

        AzureStorageConnectionString.Apply($"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AzureStorageConnectionString.DevelopmentAccountKey};EndpointSuffix=core.windows.net", options);

        Assert.Equal(new Uri("https://acct.blob.core.windows.net"), options.ServiceUri);
        Assert.Equal("acct", options.SharedKey!.AccountName);
    }

    [Fact]
    public void Apply_SharedAccessSignature_UsesSasAndKeepsEqualsSignsInValue()
    {
        var options = new AzureBlobStoreOptions();

        AzureStorageConnectionString.Apply("BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=2021-12-02&sig=abc%3D", options);

        Assert.Equal("sv=2021-12-02&sig=abc%3D", options.Sas!.Signature);
        Assert.Null(options.SharedKey);
    }

    [Theory]
    [InlineData("AccountName=acct", "neither 'AccountKey' nor 'SharedAccessSignature'")]
    [InlineData("AccountKey=c2VjcmV0LXZhbHVl", "neither 'BlobEndpoint' nor 'AccountName'")]
    [InlineData("BlobEndpoint=not a url;AccountKey=c2VjcmV0LXZhbHVl", "'BlobEndpoint' is not an absolute URL")]
    [InlineData("garbage", "malformed part")]
    public void Apply_Incomplete_ThrowsNamingTheSettingButNotTheSecret(string connectionString, string expected)
    {
        FormatException e = Assert.Throws<FormatException>(() => AzureStorageConnectionString.Apply(connectionString, new AzureBlobStoreOptions()));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LXZhbHVl", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Credential_ToString_HidesKey()
    {
        var credential = new StorageSharedKeyCredential("acct", AzureStorageConnectionString.DevelopmentAccountKey);

        Assert.DoesNotContain(AzureStorageConnectionString.DevelopmentAccountKey[..10], credential.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Upper")]
    [InlineData("double--hyphen")]
    [InlineData("-leading")]
    public void Validate_BadContainerName_NamesTheOption(string container)
    {
        var options = new AzureBlobStoreOptions { ServiceUri = new Uri("http://127.0.0.1:1/a"), Container = container };
        AzureStorageConnectionString.Apply("UseDevelopmentStorage=true", options);

        ArgumentException e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("Container", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SasInServiceUri_RefusesWithoutEchoingIt()
    {
        var options = new AzureBlobStoreOptions { Container = "abc" };
        AzureStorageConnectionString.Apply("UseDevelopmentStorage=true", options);
        options.ServiceUri = new Uri("https://acct.blob.core.windows.net/?sv=1&sig=SECRET");

        ArgumentException e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.DoesNotContain("SECRET", e.Message, StringComparison.Ordinal);
    }
}
