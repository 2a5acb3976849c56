using System.Globalization;
using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using CommerceMM.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Parity;

/// <summary>
/// A pre-LN transformer encoder layer plus 5 AdamW steps, from the same safetensors weights, here and
/// in PyTorch: the same outputs, gradients and updated weights (float32, rtol 1e-5).
/// </summary>
public class TransformerLayerParityTests
{
    private const int Dim = 32, Heads = 4, Ffn = 64, Batch = 3, Length = 7, Steps = 5;
    private const double Lr = 1e-3, WeightDecay = 0.01;

    [Fact]
    public void EncoderLayerWithAdamW_SameWeights_MatchesPyTorch()
    {
        string dir = Directory.CreateTempSubdirectory("cmm-parity-").FullName;
        try
        {
            using var g = new Generator(2024);
            using var layer = new EncoderLayer(Dim, Heads, Ffn, generator: g);
            using var x = torch.randn([Batch, Length, Dim], generator: g);
            using var target = torch.randn([Batch, Length, Dim], generator: g);
            var padMask = new bool[Batch * Length];
            for (int t = 5; t < Length; t++) padMask[1 * Length + t] = true; // the second sequence has 2 padding tokens
            using var padding = torch.tensor(padMask, [Batch, Length]);

            string inputs = Path.Combine(dir, "inputs.safetensors"), results = Path.Combine(dir, "results.safetensors");
            var meta = new Dictionary<string, string>
            {
                ["dim"] = Dim.ToString(CultureInfo.InvariantCulture), ["heads"] = Heads.ToString(CultureInfo.InvariantCulture),
                ["ffn"] = Ffn.ToString(CultureInfo.InvariantCulture), ["steps"] = Steps.ToString(CultureInfo.InvariantCulture),
                ["lr"] = Lr.ToString("R", CultureInfo.InvariantCulture), ["weight_decay"] = WeightDecay.ToString("R", CultureInfo.InvariantCulture),
            };
            SafeTensors.Write(inputs, layer.StateDict().Concat([("x", x), ("padding", padding), ("target", target)]), meta);
            PyTorchReference.Run("tools/parity/transformer_layer.py", inputs, results);
            using var reference = SafeTensors.Read(results);

            var parameters = layer.NamedParameters();
            using var optimizer = new AdamWOptimizer(parameters, new AdamWOptions { WeightDecay = WeightDecay });
            for (int step = 0; step < Steps; step++)
            {
                using var scope = torch.NewDisposeScope();
                optimizer.ZeroGrad();
                var output = layer.Forward(x, padding);
                var loss = torch.nn.functional.mse_loss(output, target);
                loss.backward();
                if (step == 0)
                {
                    TensorAssert.Close(reference["output"], output, rtol: 1e-5, atol: 1e-6, "output");
                    TensorAssert.Close(reference["loss"], loss, rtol: 1e-5, atol: 0, "loss");
                    foreach (var (name, p) in parameters)
                        TensorAssert.Close(reference["grad." + name], p.grad!, rtol: 1e-5, atol: 1e-7, "grad." + name);
                }
                double norm = GradientClipping.GlobalNorm(optimizer.Flat);
                optimizer.Step(Lr, GradientClipping.Coefficient(norm, 1.0));
            }
            foreach (var (name, p) in parameters)
            {
                var expected = reference["final." + name];
                if (name != "self_attn.in_proj_bias")
                {
                    TensorAssert.Close(expected, p, rtol: 1e-5, atol: 1e-7, "final." + name);
                    continue;
                }
                // The key bias adds the same q·b to every score of a row, which softmax cancels: its true
                // gradient is 0 and both sides compute rounding noise (~1e-10), which Adam's m/√v scales up
                // to a full ±lr step in an arbitrary direction. Query and value biases must match; the
                // key bias can only be held to Adam's bound of lr per step.
                using var scope = torch.NewDisposeScope();
                TensorAssert.Close(expected.narrow(0, 0, Dim), p.narrow(0, 0, Dim), rtol: 1e-5, atol: 1e-7, "final query bias");
                TensorAssert.Close(expected.narrow(0, 2 * Dim, Dim), p.narrow(0, 2 * Dim, Dim), rtol: 1e-5, atol: 1e-7, "final value bias");
                TensorAssert.Close(expected.narrow(0, Dim, Dim), p.narrow(0, Dim, Dim), rtol: 0, atol: 2 * Steps * Lr, "final key bias");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
