using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using CommerceMM.Tests.Shared;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Optim;

/// <summary>
/// Our AdamW runs over flat buffers; these pin it to libtorch's own per-parameter AdamW (TorchSharp's
/// torch.optim.AdamW) with clip_grad_norm_: 100 steps over the same gradients (drawn afresh each step, so that
/// the two runs' last-bit differences cannot feed back through the loss), with a head that has no gradient in
/// every other step (neither optimizer may touch it then).
/// </summary>
[Collection(LiveTensorCountCollection.Name)]
public class FlatAdamWParityTests(ITestOutputHelper output)
{
    private const int Steps = 100;
    private const double WeightDecay = 0.05, MaxNorm = 60.0;

    /// <param name="tensorOps">false: the fused CPU kernel; true: the tensor ops a GPU runs, here on the CPU</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HundredSteps_UpdatesEqualPyTorchAdamWWithin1e6Relative(bool tensorOps)
    {
        using var ours = new Network(seed: 5);
        using var theirs = new Network(seed: 5);
        using var optimizer = new AdamWOptimizer(ours.Named(), new AdamWOptions { WeightDecay = WeightDecay }) { TensorOpsOnCpu = tensorOps };
        var named = theirs.Named();
        var mine = ours.Named();
        using var reference = torch.optim.AdamW(
            [
                new AdamW.ParamGroup(named.Where(p => p.Param.dim() >= 2).Select(p => (Parameter)p.Param).ToList(), lr: 0, weight_decay: WeightDecay),
                new AdamW.ParamGroup(named.Where(p => p.Param.dim() < 2).Select(p => (Parameter)p.Param).ToList(), lr: 0, weight_decay: 0),
            ], lr: 0);
        var schedule = new WarmupCosineSchedule(3e-3, WarmupSteps: 10, TotalSteps: Steps, MinLearningRate: 3e-4);
        using var g = new Generator(9);
        double worstMoment = 0, worstUpdate = 0;
        var initial = named.Select(p => p.Param.detach().clone().DetachFromDisposeScope()).ToList();
        int clipped = 0;
        for (int step = 0; step < Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            bool headUsed = step % 2 == 1;
            var headBefore = ours.Head.weight!.detach().clone();
            optimizer.ZeroGrad();
            foreach (var (_, p) in named) p.grad = null;
            for (int i = 0; i < named.Count; i++)
            {
                if (!headUsed && named[i].Name.StartsWith("head.", StringComparison.Ordinal)) continue;
                // Gradients of varied sizes across tensors and steps, so clipping sometimes scales them and sometimes not.
                var grad = torch.randn(named[i].Param.shape, generator: g) * (0.3 + step % 7);
                mine[i].Param.grad = grad.clone();
                named[i].Param.grad = grad.clone();
            }

            double norm = GradientClipping.GlobalNorm(optimizer.Flat);
            double lr = schedule.LearningRate(step);
            optimizer.Step(lr, GradientClipping.Coefficient(norm, MaxNorm));
            var referenceNorm = torch.nn.utils.clip_grad_norm_(named.Select(p => (Parameter)p.Param), MaxNorm);
            foreach (var group in reference.ParamGroups) group.LearningRate = lr;
            // PyTorch counts steps per parameter; ours share one count, so the reference's are aligned to it.
            foreach (var state in reference.state_dict().State.Cast<AdamW.State>()) state.step = step;
            reference.step();

            Assert.Equal(1, norm / referenceNorm, 6);
            if (norm > MaxNorm) clipped++;
            if (!headUsed) TensorAssert.Close(headBefore, ours.Head.weight!, 0, 0, $"step {step}: head without gradient");
            // The moments come from the same gradients by the same formulas, so they agree to float32 rounding, and with
            // them the update's direction m̂ / (√v̂ + ε). A single step's update cannot be read back more finely than one
            // float32 step of the weight it moved (1e-4 of an update here), so each step is held to 1e-5 and the sum of
            // all 100 updates (large against that rounding) to 1e-6.
            var referenceState = StatesByName(reference, named);
            foreach (var (name, tensor) in optimizer.StateTensors())
                worstMoment = Math.Max(worstMoment, NormRelative(referenceState[name], tensor, 1e-6, $"step {step}, {name}"));
            for (int i = 0; i < named.Count; i++)
            {
                // Relative to the weight, or to the step's learning rate where a weight crosses zero.
                var relatives = (mine[i].Param - named[i].Param).abs() / (named[i].Param.abs() + lr);
                long at = relatives.argmax().item<long>();
                double relative = relatives.flatten()[at].item<float>();
                Assert.True(relative <= 1e-5, $"step {step}, {named[i].Name}[{at}]: {mine[i].Param.flatten()[at].item<float>():E8} vs PyTorch's {named[i].Param.flatten()[at].item<float>():E8}, {relative:E2} of itself (or of lr {lr})");
            }
        }
        using (torch.NewDisposeScope())
            for (int i = 0; i < named.Count; i++)
                worstUpdate = Math.Max(worstUpdate, NormRelative(named[i].Param - initial[i], mine[i].Param - initial[i], 1e-6, $"{named[i].Name}: the sum of {Steps} updates"));
        foreach (var t in initial) t.Dispose();
        output.WriteLine($"largest relative difference (norm per tensor): moments {worstMoment:E2}, sum of {Steps} updates {worstUpdate:E2}; steps clipped: {clipped} of {Steps}");
        Assert.InRange(clipped, 1, Steps - 1);   // both branches of clipping ran
    }

    /// <summary>exp_avg and exp_avg_sq of libtorch's AdamW by "&lt;param&gt;.exp_avg" names (its state follows the groups' parameter order).</summary>
    private static Dictionary<string, Tensor> StatesByName(AdamW reference, List<(string Name, Tensor Param)> named)
    {
        var inGroupOrder = named.Where(p => p.Param.dim() >= 2).Concat(named.Where(p => p.Param.dim() < 2)).Select(p => p.Name);
        var states = reference.state_dict().State.Cast<AdamW.State>();
        return inGroupOrder.Zip(states).SelectMany(x => new[] { (x.First + ".exp_avg", x.Second.exp_avg), (x.First + ".exp_avg_sq", x.Second.exp_avg_sq) })
            .ToDictionary(e => e.Item1, e => e.Item2);
    }

    private static double NormRelative(Tensor expected, Tensor actual, double bound, string what)
    {
        using var scope = torch.NewDisposeScope();
        double size = expected.norm().item<float>(), difference = (actual - expected).norm().item<float>();
        double relative = size == 0 ? difference : difference / size;
        Assert.True(relative <= bound, $"{what}: differs by {relative:E2} of its norm (bound {bound:E0})");
        return relative;
    }

    [Fact]
    public void Parameters_AreViewsOfTheFlatBuffer_AndStateRoundTrips()
    {
        using var net = new Network(seed: 1);
        var before = net.Named().Select(p => TensorAssert.Floats(p.Param)).ToList();
        using var optimizer = new AdamWOptimizer(net.Named());
        // Moving into the flat buffer kept every value.
        for (int i = 0; i < before.Count; i++) Assert.Equal(before[i], TensorAssert.Floats(net.Named()[i].Param));
        using (torch.no_grad()) optimizer.Flat.Values.fill_(2f);
        Assert.All(net.Named(), p => Assert.All(TensorAssert.Floats(p.Param), v => Assert.Equal(2f, v)));

        using var x = torch.ones([2, 12]);
        using var y = torch.zeros([2, 4]);
        using (var loss = net.Loss(x, y, headUsed: true)) loss.backward();
        optimizer.Step(1e-3);
        using var saved = new MemoryStream(SafeTensors.ToBytes(optimizer.StateTensors(), optimizer.StateMetadata));
        using var copy = new Network(seed: 2);
        using var restored = new AdamWOptimizer(copy.Named());
        restored.Load(saved, "saved");
        Assert.Equal(1, restored.StepCount);
        foreach (var ((name, a), (_, b)) in optimizer.StateTensors().Zip(restored.StateTensors()))
            TensorAssert.Close(a, b, 0, 0, name);
    }

    /// <summary>Linear → LayerNorm → GELU → a head used only when asked (so sometimes without a gradient) plus a skip path.</summary>
    private sealed class Network : IDisposable
    {
        private readonly Linear _hidden;
        private readonly LayerNorm _norm;
        private readonly Linear _skip;

        public Network(ulong seed)
        {
            using var g = new Generator(seed);
            _hidden = Layers.Linear(12, 32, g);
            _norm = Layers.LayerNorm(32);
            Head = Layers.Linear(32, 4, g);
            _skip = Layers.Linear(32, 4, g);
        }

        public Linear Head { get; }

        public List<(string Name, Tensor Param)> Named() =>
        [
            ("hidden.weight", _hidden.weight!), ("hidden.bias", _hidden.bias!), ("norm.weight", _norm.weight!), ("norm.bias", _norm.bias!),
            ("head.weight", Head.weight!), ("head.bias", Head.bias!), ("skip.weight", _skip.weight!), ("skip.bias", _skip.bias!),
        ];

        public Tensor Loss(Tensor x, Tensor y, bool headUsed)
        {
            var h = _norm.forward(_hidden.forward(x)).gelu();
            var prediction = headUsed ? Head.forward(h) + _skip.forward(h) : _skip.forward(h);
            return torch.nn.functional.mse_loss(prediction, y);
        }

        public void Dispose()
        {
            _hidden.Dispose();
            _norm.Dispose();
            Head.Dispose();
            _skip.Dispose();
        }
    }
}
