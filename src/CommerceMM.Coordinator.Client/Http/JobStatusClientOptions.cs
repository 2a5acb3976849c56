namespace CommerceMM.Coordinator.Client;

/// <summary>How the CLI reaches one job's HTTP status API.</summary>
public sealed class JobStatusClientOptions : ControlPlaneClientOptions
{
    /// <summary>The coordinator's HTTP base URL, e.g. <c>http://coordinator:7070/</c>.</summary>
    public required Uri BaseAddress { get; set; }

    public override void Validate()
    {
        base.Validate();
        ArgumentNullException.ThrowIfNull(BaseAddress, nameof(BaseAddress));
        if (!BaseAddress.IsAbsoluteUri || (BaseAddress.Scheme != Uri.UriSchemeHttp && BaseAddress.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{nameof(BaseAddress)} must be an absolute http(s) URL (was '{BaseAddress}').", nameof(BaseAddress));
        }
    }
}
