namespace CommerceMM.Observability.Stragglers;

/// <summary>
/// Flags a rank that is persistently slower than its peers: its median step time over a window,
/// divided by the median of the other ranks' medians, must stay at or above
/// <see cref="StragglerOptions.EnterRatio"/> for <see cref="StragglerOptions.Consecutive"/>
/// observations; it is cleared after as many at or below <see cref="StragglerOptions.ExitRatio"/>.
/// </summary>
/// <remarks>
/// Feed it each rank's <em>compute</em> time per step (step time minus all-reduce and data wait). With
/// synchronous all-reduce every rank's wall-clock step is as slow as the slowest, so wall time cannot
/// tell which rank is late; the fast ranks are the ones that wait in the all-reduce.
/// Thread-safe: heartbeats arrive concurrently.
/// </remarks>
public sealed class StragglerDetector
{
    private readonly StragglerOptions options;
    private readonly Lock gate = new();
    /// <summary>Per rank: its window, hysteresis counters and last status.</summary>
    private readonly SortedDictionary<int, RankState> ranks = [];

    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public StragglerDetector(StragglerOptions? options = null)
    {
        this.options = options ?? new StragglerOptions();
        this.options.Validate();
    }

    /// <summary>Adds one step time for <paramref name="rank"/> and re-evaluates that rank.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rank is negative or the time is not a finite, non-negative number.</exception>
    public RankStepStatus Observe(int rank, double stepSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        if (!double.IsFinite(stepSeconds) || stepSeconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stepSeconds), stepSeconds, "A step time must be finite and non-negative.");
        }
        lock (gate)
        {
            if (!ranks.TryGetValue(rank, out var state))
            {
                state = new RankState(new RollingWindow(options.Window));
                ranks.Add(rank, state);
            }
            state.Window.Add(stepSeconds);
            state.Status = Evaluate(rank, state);
            return state.Status;
        }
    }

    /// <summary>Drops a rank (it left, or the generation changed).</summary>
    public void Forget(int rank)
    {
        lock (gate) ranks.Remove(rank);
    }

    /// <summary>Drops every rank: ranks are reassigned in a new generation.</summary>
    public void Reset()
    {
        lock (gate) ranks.Clear();
    }

    /// <summary>The latest status of every rank seen, by rank.</summary>
    public IReadOnlyList<RankStepStatus> Snapshot()
    {
        lock (gate) return [.. ranks.Values.Select(s => s.Status)];
    }

    private RankStepStatus Evaluate(int rank, RankState state)
    {
        var ratio = Ratio(rank, state);
        if (ratio is { } r)
        {
            if (!state.Flagged)
            {
                state.Above = r >= options.EnterRatio ? state.Above + 1 : 0;
                if (state.Above >= options.Consecutive) (state.Flagged, state.Below) = (true, 0);
            }
            else
            {
                state.Below = r <= options.ExitRatio ? state.Below + 1 : 0;
                if (state.Below >= options.Consecutive) (state.Flagged, state.Above) = (false, 0);
            }
        }
        return new RankStepStatus(rank, ratio, state.Flagged);
    }

    /// <summary>Rank median over the median of eligible peers' medians; null while not comparable.</summary>
    private double? Ratio(int rank, RankState state)
    {
        if (state.Window.Count < options.MinSamples) return null;
        var peerMedians = ranks
            .Where(p => p.Key != rank && p.Value.Window.Count >= options.MinSamples)
            .Select(p => p.Value.Window.Median())
            .Order()
            .ToArray();
        if (peerMedians.Length == 0) return null;
        var peers = RollingWindow.Median(peerMedians);
        // All-zero peers (a test clock, or an empty step) give no meaningful ratio.
        return peers > 0 ? state.Window.Median() / peers : null;
    }

    private sealed class RankState(RollingWindow window)
    {
        public RollingWindow Window { get; } = window;
        /// <summary>Consecutive evaluations at or above the enter ratio while not flagged.</summary>
        public int Above { get; set; }
        /// <summary>Consecutive evaluations at or below the exit ratio while flagged.</summary>
        public int Below { get; set; }
        public bool Flagged { get; set; }
        public RankStepStatus Status { get; set; }
    }
}
