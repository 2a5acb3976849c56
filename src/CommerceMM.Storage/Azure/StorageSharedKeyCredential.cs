namespace CommerceMM.Storage.Azure;

/// <summary>A storage account name and its access key (Shared Key authorization).</summary>
/// <remarks>The key is a secret: <see cref="ToString"/> omits it, and it is only ever used to compute HMACs.</remarks>
public sealed class StorageSharedKeyCredential
{
    private readonly byte[] _key;

    /// <param name="accountName">The storage account, e.g. <c>devstoreaccount1</c> for Azurite.</param>
    /// <param name="accountKey">The account key, base64 as the portal and connection strings show it.</param>
    public StorageSharedKeyCredential(string accountName, string accountKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accountName);
        ArgumentException.ThrowIfNullOrWhiteSpace(accountKey);
        AccountName = accountName;
        try
        {
            _key = Convert.FromBase64String(accountKey);
        }
        catch (FormatException)
        {
            // Do not echo the value: a malformed key may still be most of a real one.
            throw new ArgumentException($"The account key for storage account '{accountName}' is not valid base64.", nameof(accountKey));
        }
    }

    public string AccountName { get; }

    /// <summary>HMAC-SHA256 of <paramref name="text"/> (UTF-8) under the account key, base64-encoded.</summary>
    internal string Sign(string text) =>
        Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(_key, System.Text.Encoding.UTF8.GetBytes(text)));

    public override string ToString() => $"SharedKey(account={AccountName}, key=***)";
}
