using global::Azure;
using global::Azure.Core;
using global::Azure.Core.Pipeline;

namespace CommerceMM.Storage.Azure;

/// <summary>Authorizes requests with a shared access signature by appending its query parameters to each request URL.</summary>
/// <remarks>Azure.Core's logging redacts query values it is not told to log, so <c>sig</c> never reaches a log.</remarks>
internal sealed class SasQueryPolicy(AzureSasCredential sas) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        // Read the credential each time: AzureSasCredential.Update lets a host rotate the token without a new store.
        foreach (string pair in sas.Signature.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            string name = eq < 0 ? pair : pair[..eq];
            if (!message.Request.Uri.Query.Contains("&" + name + "=", StringComparison.Ordinal)
                && !message.Request.Uri.Query.StartsWith("?" + name + "=", StringComparison.Ordinal))
            {
                message.Request.Uri.AppendQuery(name, eq < 0 ? "" : pair[(eq + 1)..], escapeValue: false);
            }
        }
    }
}
