using global::Azure;
using global::Azure.Storage;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// Parses an Azure Storage connection string into the blob endpoint and credentials, including
/// <c>UseDevelopmentStorage=true</c> (Azurite's well-known account on its default port).
/// </summary>
public static class AzureStorageConnectionString
{
    /// <summary>Azurite's built-in account name.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>Azurite's built-in account key: published in Microsoft's documentation, valid only against the emulator.</summary>
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Fills <see cref="AzureBlobStoreOptions.ServiceUri"/> and the credential from <paramref name="connectionString"/>.</summary>
    /// <param name="connectionString">The connection string.</param>
    /// <param name="options">The options to fill.</param>
    /// <param name="source">Where the string came from (an environment variable or file), for error messages; never its value.</param>
    /// <exception cref="FormatException">The string is malformed or lacks an endpoint or a credential; the message names the setting, never a value.</exception>
    public static void Apply(string connectionString, AzureBlobStoreOptions options, string source = "connection string")
    {
        ArgumentNullException.ThrowIfNull(options);
        Dictionary<string, string> settings = Parse(connectionString);
        options.TokenCredential = null;
        if (settings.TryGetValue("UseDevelopmentStorage", out string? dev) && dev.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            string proxy = settings.TryGetValue("DevelopmentStorageProxyUri", out string? p) ? p.TrimEnd('/') : "http://127.0.0.1";
            options.ServiceUri = new Uri($"{proxy}:10000/{DevelopmentAccountName}");
            options.SharedKey = new StorageSharedKeyCredential(DevelopmentAccountName, DevelopmentAccountKey);
            options.Sas = null;
            options.EndpointSetting = $"{source} (UseDevelopmentStorage)";
            options.CredentialSetting = $"{source} (UseDevelopmentStorage)";
            return;
        }

        settings.TryGetValue("AccountName", out string? account);
        if (settings.TryGetValue("BlobEndpoint", out string? endpoint))
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri))
            {
                throw new FormatException("Connection string setting 'BlobEndpoint' is not an absolute URL.");
            }

            options.ServiceUri = uri;
            options.EndpointSetting = $"{source} (BlobEndpoint)";
        }
        else if (account is not null)
        {
            string protocol = settings.TryGetValue("DefaultEndpointsProtocol", out string? proto) ? proto : "https";
            string suffix = settings.TryGetValue("EndpointSuffix", out string? s) ? s : "core.windows.net";
            options.ServiceUri = new Uri($"{protocol}://{account}.blob.{suffix}");
            options.EndpointSetting = $"{source} (AccountName, EndpointSuffix)";
        }
        else
        {
            throw new FormatException("Connection string has neither 'BlobEndpoint' nor 'AccountName'.");
        }

        if (settings.TryGetValue("SharedAccessSignature", out string? sas))
        {
            options.Sas = new AzureSasCredential(sas);
            options.SharedKey = null;
            options.CredentialSetting = $"{source} (SharedAccessSignature)";
        }
        else if (settings.TryGetValue("AccountKey", out string? key))
        {
            if (account is null)
            {
                throw new FormatException("Connection string has 'AccountKey' but no 'AccountName'.");
            }

            options.SharedKey = SharedKey(account, key, $"{source} (AccountKey)");
            options.Sas = null;
            options.CredentialSetting = $"{source} (AccountName, AccountKey)";
        }
        else
        {
            throw new FormatException("Connection string has neither 'AccountKey' nor 'SharedAccessSignature'.");
        }
    }

    /// <summary>An account-key credential; a key that is not base64 is a <see cref="FormatException"/> naming <paramref name="setting"/>, never the key.</summary>
    internal static StorageSharedKeyCredential SharedKey(string account, string key, string setting)
    {
        try
        {
            return new StorageSharedKeyCredential(account, key);
        }
        catch (FormatException)
        {
            throw new FormatException($"The account key in {setting} is not valid base64.");
        }
    }

    private static Dictionary<string, string> Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Split at the first '=' only: keys and SAS tokens contain '=' themselves.
            int eq = part.IndexOf('=');
            if (eq <= 0)
            {
                throw new FormatException($"Connection string has a malformed part (expected Name=Value) at position {connectionString.IndexOf(part, StringComparison.Ordinal)}.");
            }

            settings[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }

        return settings;
    }
}
