using System.Runtime.ExceptionServices;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// Runs independent parts of a forward pass (the text and the image encoder) at the same time on the CPU, each on
/// its share of the intra-op threads, and their backward passes too. At our sizes a lone encoder keeps two cores
/// only partly busy (small ops run on one thread, and every op's dispatch is serial), so two encoders on one thread
/// each finish sooner than one after the other on two: CONTRIBUTING, "Encoders side by side".
/// </summary>
/// <remarks>
/// <para>libtorch's engine runs a CPU backward on the thread that calls it, so one backward call over the whole pass
/// would run the branches' backwards one after the other. Each branch's output is therefore handed to the rest of the
/// pass as a new leaf (<see cref="DeferredBackward"/>): the pass's backward stops at the leaves, and then each branch's
/// backward starts from its output with its leaf's gradient, again side by side. The parameters of two branches are
/// disjoint, so their gradients accumulate independently and in the same order as ever: the results are the same
/// from run to run.</para>
/// <para>The branches run one after the other, in one graph, where running them together would not pay or would change
/// results: on a GPU (kernels queue asynchronously anyway), with fewer intra-op threads than branches, with encoders of
/// very unequal work (one would wait for the other), and with dropout (the masks come from one generator, and the draws'
/// order must not depend on timing).</para>
/// </remarks>
public sealed class ConcurrentBranches : IDisposable
{
    private readonly List<Helper> _helpers = [];
    private readonly object _gate = new();

    private long _sideBySide;

    /// <param name="enabled">false: every <see cref="Run"/> runs its branches one after the other (see the remarks)</param>
    public ConcurrentBranches(bool enabled) => Enabled = enabled;

    /// <summary>Whether branches may go side by side at all (given enough threads).</summary>
    public bool Enabled { get; }

    /// <summary>The intra-op threads the branches share out; null: the process's (<see cref="TorchRuntime.ConfiguredThreads"/>).</summary>
    public int? Threads { get; set; }

    /// <summary>Forward and backward runs whose branches went side by side so far.</summary>
    public long SideBySideRuns => Interlocked.Read(ref _sideBySide);

    /// <summary>
    /// Each branch's outputs, in order (null where a branch gave null). Run side by side, outputs that need a gradient
    /// come back as leaves whose branch backward <paramref name="deferred"/> runs later.
    /// </summary>
    public Tensor?[][] Run(DeferredBackward deferred, params Func<Tensor?[]>[] branches)
    {
        int threads = Threads ?? TorchRuntime.ConfiguredThreads;
        if (!Enabled || branches.Length < 2 || threads < branches.Length) return branches.Select(b => b()).ToArray();
        bool grad = torch.is_grad_enabled(), bf16 = MixedPrecision.Active;
        var outputs = Together(branches.Select(branch => (Func<Tensor?[]>)(() =>
        {
            using var gradMode = torch.set_grad_enabled(grad);
            using var region = MixedPrecision.Enter(bf16 ? Precision.Bf16 : Precision.Fp32);
            return branch();
        })).ToArray(), threads);
        return outputs.Select(o => o.Select(t => t is null ? null : deferred.Adopt(t)).ToArray()).ToArray();
    }

    /// <summary>Runs the branches' backward passes side by side (<see cref="DeferredBackward.Run"/>).</summary>
    internal void Backward(IReadOnlyList<(Tensor Output, Tensor Gradient)> roots)
    {
        if (roots.Count == 1)
        {
            roots[0].Output.backward([roots[0].Gradient]);
            return;
        }
        Together(roots.Select(r => (Func<Tensor?[]>)(() => { r.Output.backward([r.Gradient]); return []; })).ToArray(), Threads ?? TorchRuntime.ConfiguredThreads);
    }

    /// <summary>
    /// Each call on a helper thread with its share of <paramref name="threads"/> (at least one); their outputs, outside
    /// any dispose scope. One at a time: the helpers belong to whichever caller holds the gate.
    /// </summary>
    private Tensor?[][] Together(Func<Tensor?[]>[] calls, int threads)
    {
        lock (_gate)
        {
            while (_helpers.Count < calls.Length) _helpers.Add(new Helper(_helpers.Count));
            Interlocked.Increment(ref _sideBySide);
            for (int i = 0; i < calls.Length; i++) _helpers[i].Start(calls[i], Math.Max(1, threads / calls.Length + (i < threads % calls.Length ? 1 : 0)));
            var outputs = new Tensor?[calls.Length][];
            Exception? failure = null;
            for (int i = 0; i < calls.Length; i++)
            {
                var (output, error) = _helpers[i].Finish();
                outputs[i] = output;
                failure ??= error;
            }
            if (failure is null) return outputs;
            foreach (var t in outputs.SelectMany(o => o)) t?.Dispose();
            ExceptionDispatchInfo.Throw(failure);
            return outputs;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var h in _helpers) h.Stop();
            _helpers.Clear();
        }
    }

    /// <summary>A thread that runs one call at a time with its own intra-op thread count.</summary>
    private sealed class Helper
    {
        private readonly SemaphoreSlim _start = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private Func<Tensor?[]>? _call;
        private int _threads;
        private Tensor?[] _output = [];
        private Exception? _error;
        private bool _stopping;

        public Helper(int index) =>
            new Thread(Loop) { IsBackground = true, Name = $"cmm branch {index}" }.Start();

        public void Start(Func<Tensor?[]> call, int threads)
        {
            (_call, _threads) = (call, threads);
            _start.Release();
        }

        public (Tensor?[] Output, Exception? Error) Finish()
        {
            _done.Wait();
            var result = (_output, _error);
            (_call, _output, _error) = (null, [], null);
            return result;
        }

        public void Stop()
        {
            _stopping = true;
            _start.Release();
        }

        private void Loop()
        {
            while (true)
            {
                _start.Wait();
                if (_stopping) return;
                try
                {
                    // OpenMP keeps the count per thread; libtorch also remembers the last one set for threads it has not met.
                    if (torch.get_num_threads() != _threads) torch.set_num_threads(_threads);
                    using var scope = torch.NewDisposeScope();
                    _output = _call!();
                    foreach (var t in _output) t?.DetachFromDisposeScope();
                }
                catch (Exception e)
                {
                    _error = e;
                }
                _done.Release();
            }
        }
    }
}

/// <summary>
/// The branch outputs of one pass that <see cref="ConcurrentBranches"/> handed on as leaves: after the pass's own
/// backward has filled the leaves' gradients, <see cref="Run"/> back-propagates each output with its leaf's gradient,
/// side by side. Owns the outputs (and so their graphs) until then.
/// </summary>
public sealed class DeferredBackward : IDisposable
{
    private readonly List<(Tensor Output, Tensor Leaf)> _branches = [];

    /// <summary>The output as this thread's tensor: a leaf standing in for it when it needs a gradient.</summary>
    internal Tensor Adopt(Tensor output)
    {
        if (!output.requires_grad)
        {
            using (output) return output.alias();   // in the caller's dispose scope
        }
        var leaf = output.detach().requires_grad_(true).DetachFromDisposeScope();
        _branches.Add((output, leaf));
        return leaf.alias();
    }

    /// <summary>Back-propagates every branch that received a gradient, side by side, then releases the graphs.</summary>
    public void Run(ConcurrentBranches branches)
    {
        using var scope = torch.NewDisposeScope();
        var roots = _branches.Select(b => (b.Output, Gradient: b.Leaf.grad)).Where(r => r.Gradient is not null).Select(r => (r.Output, r.Gradient!)).ToList();
        if (roots.Count > 0) branches.Backward(roots);
        Dispose();
    }

    public void Dispose()
    {
        foreach (var (output, leaf) in _branches)
        {
            output.Dispose();
            leaf.Dispose();
        }
        _branches.Clear();
    }
}
