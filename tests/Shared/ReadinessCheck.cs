using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace CommerceMM.Tests.Shared;

/// <summary>
/// Puts <see cref="GradientReadiness"/> probes on a model's trained encoder layers, and checks the claim the overlap of
/// the all-reduce with backward rests on: when a layer is reported, its gradients are final. At each report the layer's
/// gradients move into the flat buffer, as a bucket's launch does; after backward none of them may have changed.
/// </summary>
internal sealed class ReadinessCheck
{
    private readonly FlatParameters _flat;
    private readonly Dictionary<string, int> _index;
    private readonly List<(string Name, EncoderLayer Layer)> _layers;
    private readonly GradientReadiness _readiness;
    private readonly Dictionary<string, Tensor> _atReport = [];
    private readonly List<string> _reported = [];

    public ReadinessCheck(nn.Module model, FlatParameters flat)
    {
        _flat = flat;
        _index = flat.Names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
        _layers = model.named_modules().Where(m => m.module is EncoderLayer && _index.Keys.Any(n => n.StartsWith(m.name + ".", StringComparison.Ordinal)))
            .Select(m => (m.name, (EncoderLayer)m.module)).ToList();
        Assert.NotEmpty(_layers);
        _readiness = new GradientReadiness(_layers.Count) { UnitReady = Report };
        for (int i = 0; i < _layers.Count; i++) _layers[i].Layer.GradientProbe = new ReadinessProbe(_readiness, i);
    }

    /// <summary>The next forward pass is the step's last: count its layers.</summary>
    public void Arm() => _readiness.Arm();

    /// <summary>No layer reported since the last check, before <see cref="Arm"/> (an earlier pass's gradients are not final).</summary>
    public void AssertNoneReported() => Assert.Empty(_reported);

    /// <summary>After the last backward: every layer reported once, and nothing it held at its report changed since.</summary>
    public void AssertReportedLayersFinal(string context)
    {
        _readiness.Disarm();
        Assert.Equal(_layers.Select(l => l.Name).Order(), _reported.Order());
        _flat.GatherGradients();
        foreach (var (name, early) in _atReport)
        {
            using var final = _flat.Segment(_flat.Gradients, _index[name]);
            float change = (final - early).abs().max().item<float>();
            Assert.True(change == 0, $"{context}, {name}: its gradient changed by up to {change} after its layer was reported");
        }
        _atReport.Clear();
        _reported.Clear();
    }

    private void Report(int unit)
    {
        var (layerName, layer) = _layers[unit];
        _reported.Add(layerName);
        foreach (var (name, _) in layer.named_parameters())
        {
            int p = _index[$"{layerName}.{name}"];
            _flat.GatherGradient(p);
            _atReport[_flat.Names[p]] = _flat.Segment(_flat.Gradients, p).clone().DetachFromDisposeScope();
        }
    }
}
