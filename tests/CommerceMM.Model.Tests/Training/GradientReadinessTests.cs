using CommerceMM.Model.Config;
using CommerceMM.Model.Debugging;
using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Training;

/// <summary>
/// The overlap of the gradient all-reduce with backward rests on one claim: when <see cref="GradientReadiness"/>
/// reports an encoder layer, that layer's gradients are final. Sent earlier, a bucket would average a partial
/// gradient, and ranks would drift apart. Checked on the real two-pass step, in one process.
/// </summary>
public class GradientReadinessTests
{
    private static readonly CommerceMMConfig Tiny = CommerceMMConfig.Tiny() with { Mim = new MimConfig { Prototypes = 32 } };

    /// <summary>
    /// Three steps as the trainer takes them (AdamW over flat buffers, gradients cleared between steps), each
    /// reported layer's gradients moved into the flat buffer at once, as a bucket's launch does.
    /// </summary>
    [Fact]
    public void ReportedLayer_HoldsItsFinalGradients()
    {
        using var model = new CommerceMMModel(Tiny, 1);
        using var batches = new SyntheticBatch(Tiny, rows: 6, seed: 11);
        using var optimizer = new AdamWOptimizer(model.TrainableParameters(), new AdamWOptions());
        var flat = optimizer.Flat;
        var index = flat.Names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
        var layers = model.named_modules().Where(m => m.module is EncoderLayer && !m.name.StartsWith(CommerceMMModel.TeacherPrefix, StringComparison.Ordinal))
            .Select(m => (m.name, Layer: (EncoderLayer)m.module)).ToList();
        var readiness = new GradientReadiness(layers.Count);
        for (int i = 0; i < layers.Count; i++) layers[i].Layer.GradientProbe = new ReadinessProbe(readiness, i);

        for (int step = 0; step < 3; step++)
        {
            var atReport = new Dictionary<string, Tensor>();
            var reported = new List<string>();
            readiness.UnitReady = unit =>
            {
                reported.Add(layers[unit].name);
                foreach (var (name, _) in layers[unit].Layer.named_parameters())
                {
                    int p = index[$"{layers[unit].name}.{name}"];
                    flat.GatherGradient(p);
                    atReport[flat.Names[p]] = flat.Segment(flat.Gradients, p).clone().DetachFromDisposeScope();
                }
            };

            optimizer.ZeroGrad();
            using (var g = new Generator(77 + (ulong)step))
            using (var plan = Pass1Plan.Create(Tiny, batches.Pairs, g))
            using (var pass1 = Pass1.Run(model, batches.Pairs, plan, Tiny.FullDepth, ModelCollectives.Single, g, Tiny.Weight))
                pass1.Total!.backward();
            Assert.Empty(reported); // not armed: pass 1's gradients are not final
            readiness.Arm();
            using (var pass2 = Pass2.Run(model, batches.Omni, Tiny.FullDepth, ModelCollectives.Single, Tiny.Weight))
                pass2.Total!.backward();
            readiness.Disarm();

            Assert.Equal(layers.Select(l => l.name).Order(), reported.Order()); // every layer, once
            flat.GatherGradients();
            foreach (var (name, early) in atReport)
            {
                using var final = flat.Segment(flat.Gradients, index[name]);
                float change = (final - early).abs().max().item<float>();
                Assert.True(change == 0, $"step {step}, {name}: its gradient changed by up to {change} after its layer was reported");
            }
            optimizer.Step(1e-3);
        }
    }
}
