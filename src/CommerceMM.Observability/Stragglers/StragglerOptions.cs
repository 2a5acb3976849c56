namespace CommerceMM.Observability.Stragglers;

/// <summary>When a rank counts as a straggler. Each default is a const beside its property.</summary>
public sealed class StragglerOptions
{
    public const int DefaultWindow = 20;
    public const int DefaultMinSamples = 5;
    public const double DefaultEnterRatio = 1.25;
    public const double DefaultExitRatio = 1.10;
    public const int DefaultConsecutive = 3;

    /// <summary>Step times kept per rank; the median over them is the rank's typical step.</summary>
    /// <value>20.</value>
    /// <remarks>A median, not a mean, so one slow step (a checkpoint snapshot, a GC) moves nothing.</remarks>
    public int Window { get; set; } = DefaultWindow;

    /// <summary>Step times a rank needs before it is compared at all, and before it counts as a peer.</summary>
    /// <value>5.</value>
    public int MinSamples { get; set; } = DefaultMinSamples;

    /// <summary>Ratio (rank median / peers' median) at or above which a rank is heading for the flag.</summary>
    /// <value>1.25: a quarter slower than its peers.</value>
    public double EnterRatio { get; set; } = DefaultEnterRatio;

    /// <summary>Ratio at or below which a flagged rank is heading back to normal.</summary>
    /// <value>1.10.</value>
    /// <remarks>Below <see cref="EnterRatio"/> so a rank hovering at the threshold does not flap.</remarks>
    public double ExitRatio { get; set; } = DefaultExitRatio;

    /// <summary>Consecutive observations past a threshold needed to change the flag, either way.</summary>
    /// <value>3.</value>
    public int Consecutive { get; set; } = DefaultConsecutive;

    /// <summary>Throws naming the first bad option.</summary>
    public void Validate()
    {
        if (Window < 1) throw Bad(nameof(Window), $"must be at least 1; got {Window}");
        if (MinSamples < 1 || MinSamples > Window) throw Bad(nameof(MinSamples), $"must be in [1, {nameof(Window)}={Window}]; got {MinSamples}");
        if (!(EnterRatio > 1)) throw Bad(nameof(EnterRatio), $"must be above 1; got {EnterRatio}");
        if (!(ExitRatio >= 1 && ExitRatio < EnterRatio)) throw Bad(nameof(ExitRatio), $"must be in [1, {nameof(EnterRatio)}={EnterRatio}); got {ExitRatio}");
        if (Consecutive < 1) throw Bad(nameof(Consecutive), $"must be at least 1; got {Consecutive}");
    }

    private static ArgumentException Bad(string name, string why) =>
        new($"{nameof(StragglerOptions)}.{name} {why}.");
}
