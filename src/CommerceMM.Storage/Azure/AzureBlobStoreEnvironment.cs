using System.Globalization;
using global::Azure;
using global::Azure.Identity;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// Azure settings from the environment, secrets optionally from files (a mounted Kubernetes Secret): never from a job spec.
/// </summary>
/// <remarks>
/// <para>Credentials, in this order:</para>
/// <list type="number">
/// <item><c>CMM_AZURE_CONNECTION_STRING</c> or <c>CMM_AZURE_CONNECTION_STRING_FILE</c>: a connection string (account key, SAS, or <c>UseDevelopmentStorage=true</c>);</item>
/// <item><c>CMM_AZURE_BLOB_ENDPOINT</c> with <c>CMM_AZURE_SAS</c> / <c>CMM_AZURE_SAS_FILE</c>: a SAS token;</item>
/// <item><c>CMM_AZURE_BLOB_ENDPOINT</c> with <c>CMM_AZURE_ACCOUNT_KEY</c> / <c>CMM_AZURE_ACCOUNT_KEY_FILE</c> (and <c>CMM_AZURE_ACCOUNT_NAME</c>,
/// by default the endpoint's first host label, or for a path-style endpoint such as Azurite's its first path segment);</item>
/// <item><c>CMM_AZURE_BLOB_ENDPOINT</c> alone: Azure.Identity's <see cref="DefaultAzureCredential"/> (a managed identity, workload identity, or the Azure CLI login).</item>
/// </list>
/// <para>Transfers: <c>CMM_AZURE_MAX_RETRIES</c>, <c>CMM_AZURE_RETRY_DELAY_SECONDS</c>, <c>CMM_AZURE_MAX_RETRY_DELAY_SECONDS</c>,
/// <c>CMM_AZURE_NETWORK_TIMEOUT_SECONDS</c>, <c>CMM_AZURE_BLOCK_SIZE_MB</c>, <c>CMM_AZURE_PARALLEL_BLOCKS</c>, <c>CMM_AZURE_DOWNLOAD_RANGE_MB</c>.</para>
/// </remarks>
public static class AzureBlobStoreEnvironment
{
    public const string ConnectionStringVariable = "CMM_AZURE_CONNECTION_STRING";
    public const string EndpointVariable = "CMM_AZURE_BLOB_ENDPOINT";
    public const string SasVariable = "CMM_AZURE_SAS";
    public const string AccountKeyVariable = "CMM_AZURE_ACCOUNT_KEY";
    public const string AccountNameVariable = "CMM_AZURE_ACCOUNT_NAME";
    public const string MaxRetriesVariable = "CMM_AZURE_MAX_RETRIES";
    public const string RetryDelayVariable = "CMM_AZURE_RETRY_DELAY_SECONDS";
    public const string MaxRetryDelayVariable = "CMM_AZURE_MAX_RETRY_DELAY_SECONDS";
    public const string NetworkTimeoutVariable = "CMM_AZURE_NETWORK_TIMEOUT_SECONDS";
    public const string BlockSizeVariable = "CMM_AZURE_BLOCK_SIZE_MB";
    public const string ParallelBlocksVariable = "CMM_AZURE_PARALLEL_BLOCKS";
    public const string DownloadRangeVariable = "CMM_AZURE_DOWNLOAD_RANGE_MB";

    /// <summary>True when any credential variable is set (the store can be opened from the environment).</summary>
    public static bool IsConfigured(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        return !string.IsNullOrEmpty(getVariable(ConnectionStringVariable)) || !string.IsNullOrEmpty(getVariable(ConnectionStringVariable + "_FILE"))
            || !string.IsNullOrEmpty(getVariable(EndpointVariable));
    }

    /// <summary>Options for <paramref name="container"/> from the environment.</summary>
    /// <param name="container">The container (from the job spec: it is not a secret).</param>
    /// <param name="containerSetting">Where the container name came from, for error messages (e.g. <c>checkpoint.container</c>).</param>
    /// <param name="getVariable">Reads a variable; the process environment by default.</param>
    /// <exception cref="FormatException">A variable is missing, conflicting or malformed; the message names it, never a secret.</exception>
    public static AzureBlobStoreOptions Read(string container, string containerSetting = "container", Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var options = new AzureBlobStoreOptions { Container = container, ContainerSetting = containerSetting };
        if (Secret(getVariable, ConnectionStringVariable) is { } connection)
        {
            AzureStorageConnectionString.Apply(connection.Value, options, connection.Setting);
        }
        else
        {
            string endpoint = getVariable(EndpointVariable) is { Length: > 0 } e
                ? e
                : throw new FormatException($"No Azure Blob Storage settings: set {ConnectionStringVariable} (or {ConnectionStringVariable}_FILE), or {EndpointVariable} with a SAS, an account key, or nothing for a managed identity.");
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri))
            {
                throw new FormatException($"{EndpointVariable} is not an absolute URL.");
            }

            options.ServiceUri = uri;
            options.EndpointSetting = EndpointVariable;
            (string Value, string Setting)? sas = Secret(getVariable, SasVariable);
            (string Value, string Setting)? key = Secret(getVariable, AccountKeyVariable);
            if (sas is not null && key is not null)
            {
                throw new FormatException($"Both {sas.Value.Setting} and {key.Value.Setting} are set: set one.");
            }

            if (sas is { } s)
            {
                options.Sas = new AzureSasCredential(s.Value);
                options.CredentialSetting = s.Setting;
            }
            else if (key is { } k)
            {
                string account = getVariable(AccountNameVariable) is { Length: > 0 } name ? name : AccountFromEndpoint(uri)
                    ?? throw new FormatException($"{AccountNameVariable} is not set and the account cannot be read from {EndpointVariable}.");
                options.SharedKey = AzureStorageConnectionString.SharedKey(account, k.Value, k.Setting);
                options.CredentialSetting = $"{k.Setting} (account '{account}')";
            }
            else
            {
                options.TokenCredential = new DefaultAzureCredential();
                options.CredentialSetting = $"the managed identity (DefaultAzureCredential; {EndpointVariable} without {SasVariable} or {AccountKeyVariable})";
            }
        }

        options.MaxRetries = Number(getVariable, MaxRetriesVariable, options.MaxRetries, v => (int)v, whole: true);
        options.RetryDelay = Number(getVariable, RetryDelayVariable, options.RetryDelay, TimeSpan.FromSeconds);
        options.MaxRetryDelay = Number(getVariable, MaxRetryDelayVariable, options.MaxRetryDelay, TimeSpan.FromSeconds);
        options.NetworkTimeout = Number(getVariable, NetworkTimeoutVariable, options.NetworkTimeout, TimeSpan.FromSeconds);
        options.BlockSize = Number(getVariable, BlockSizeVariable, options.BlockSize, v => (int)(v * (1 << 20)));
        options.MaxParallelBlocks = Number(getVariable, ParallelBlocksVariable, options.MaxParallelBlocks, v => (int)v, whole: true);
        options.DownloadRangeSize = Number(getVariable, DownloadRangeVariable, options.DownloadRangeSize, v => (int)(v * (1 << 20)));
        return options;
    }

    /// <summary>The account of <c>https://ACCOUNT.blob.…</c>, or of a path-style <c>http://HOST:PORT/ACCOUNT</c> (Azurite).</summary>
    internal static string? AccountFromEndpoint(Uri uri)
    {
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || uri.IsLoopback)
        {
            string first = uri.AbsolutePath.Trim('/').Split('/')[0];
            return first.Length > 0 ? first : null;
        }

        int dot = uri.Host.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? uri.Host[..dot] : null;
    }

    /// <summary>VARIABLE, or the contents of the file VARIABLE_FILE names (trailing newline trimmed); null when neither is set.</summary>
    private static (string Value, string Setting)? Secret(Func<string, string?> getVariable, string variable)
    {
        string? direct = getVariable(variable);
        string? file = getVariable(variable + "_FILE");
        if (!string.IsNullOrEmpty(direct) && !string.IsNullOrEmpty(file))
        {
            throw new FormatException($"Both {variable} and {variable}_FILE are set: set one.");
        }

        if (!string.IsNullOrEmpty(direct))
        {
            return (direct.Trim(), variable);
        }

        if (string.IsNullOrEmpty(file))
        {
            return null;
        }

        string text;
        try
        {
            text = File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"{variable}_FILE names '{file}', which cannot be read: {e.Message}");
        }

        return text.Length > 0 ? (text, $"{variable}_FILE ('{file}')") : throw new FormatException($"{variable}_FILE names '{file}', which is empty.");
    }

    private static T Number<T>(Func<string, string?> getVariable, string variable, T fallback, Func<double, T> convert, bool whole = false)
    {
        string? text = getVariable(variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0 || double.IsInfinity(value) || (whole && value != Math.Floor(value)))
        {
            throw new FormatException($"{variable}='{text}' is not a {(whole ? "whole number" : "number")} of 0 or more.");
        }

        return convert(value);
    }
}
