using CommerceMM.Model.Config;
using CommerceMM.Model.NN;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace CommerceMM.Model.Encoders;

/// <summary>
/// The MIM teacher (ours, MODEL.md §3): an exponential moving average of the student's image encoder
/// and prototypes. It starts as a copy, is never back-propagated, and is updated once per optimizer
/// step (even while the MIM tasks are disabled) with a constant momentum.
/// </summary>
public sealed class MimTeacher : ExplicitModule
{
    [ComponentName(Name = "prototypes")] private Parameter _prototypes;

    public MimTeacher(CommerceMMConfig c, CommerceMMModel student, Generator g, Generator dropout) : base(nameof(MimTeacher))
    {
        Image = AddModule("image", new ImageEncoder(c, g, dropout));
        _prototypes = AddParameter("prototypes", torch.zeros(c.Mim.Prototypes, c.Dim, device: torch.CPU));
        using (torch.no_grad())
        {
            foreach (var (t, s) in Pairs(student)) t.copy_(s);
        }
        foreach (var p in parameters()) p.requires_grad = false;
    }

    public ImageEncoder Image { get; }
    public Parameter Prototypes => _prototypes;

    /// <summary>teacher ← m·teacher + (1 − m)·student.</summary>
    public void Update(CommerceMMModel student, double momentum)
    {
        using var noGrad = torch.no_grad();
        using var weight = Ema.Weight(1 - momentum, _prototypes);
        foreach (var (t, s) in Pairs(student)) t.lerp_(s, weight);
    }

    private IEnumerable<(Tensor Teacher, Tensor Student)> Pairs(CommerceMMModel student)
    {
        var own = Image.parameters().ToList();
        var theirs = student.Image.parameters().ToList();
        for (int i = 0; i < own.Count; i++) yield return (own[i], theirs[i]);
        yield return (_prototypes, student.Prototypes);
    }
}
