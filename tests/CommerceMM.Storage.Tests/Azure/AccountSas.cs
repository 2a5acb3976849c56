using global::Azure.Storage;
using global::Azure.Storage.Sas;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>Mints account SAS tokens for the blob service with the SDK's builder, so SAS auth is tested against the real emulator.</summary>
internal static class AccountSas
{
    public static string Create(StorageSharedKeyCredential account, DateTimeOffset expiry)
    {
        var builder = new AccountSasBuilder(AccountSasPermissions.All, expiry, AccountSasServices.Blobs, AccountSasResourceTypes.All)
        {
            StartsOn = expiry.AddHours(-2),
            Protocol = SasProtocol.HttpsAndHttp,
        };
        return builder.ToSasQueryParameters(account).ToString();
    }
}
