using System.Globalization;
using CommerceMM.Storage.Azure;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>Mints account SAS tokens for the blob service (signed-version 2021-12-02 string-to-sign), so SAS auth is tested against the real emulator.</summary>
internal static class AccountSas
{
    public static string Create(StorageSharedKeyCredential account, DateTimeOffset expiry, string permissions = "racwdl")
    {
        const string version = AzureBlobStoreOptions.ServiceVersion;
        string start = expiry.AddHours(-2).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        string end = expiry.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        // account, permissions, services, resource types, start, expiry, IP, protocol, version, encryption scope.
        string stringToSign = string.Join("\n", account.AccountName, permissions, "b", "sco", start, end, "", "https,http", version, "") + "\n";
        string signature = account.Sign(stringToSign);
        return $"sv={version}&ss=b&srt=sco&sp={permissions}&st={Uri.EscapeDataString(start)}&se={Uri.EscapeDataString(end)}&spr=https,http&sig={Uri.EscapeDataString(signature)}";
    }
}
