using CommerceMM.Model.Config;
using CommerceMM.Torch;
using CommerceMM.Torch.NN;

namespace CommerceMM.Model.Encoders;

/// <summary>
/// The MIM teacher (ours, MODEL.md §3): an exponential moving average of the student's image encoder
/// and prototypes. It starts as a copy, is never back-propagated, and is updated once per optimizer
/// step (even while the MIM tasks are disabled) with a constant momentum.
/// </summary>
public sealed class MimTeacher : Module
{
    public MimTeacher(CommerceMMConfig c, CommerceMMModel student, Generator g, Generator dropout)
    {
        Image = RegisterModule("image", new ImageEncoder(c, g, dropout));
        Prototypes = RegisterParameter("prototypes", Torch.Torch.Zeros([c.Mim.Prototypes, c.Dim]));
        using (Torch.Torch.NoGrad())
        {
            foreach (var ((_, t), (_, s)) in Pairs(student)) t.CopyFrom(s);
        }
        foreach (var p in Parameters()) p.RequiresGrad = false;
    }

    public ImageEncoder Image { get; }
    public Tensor Prototypes { get; }

    /// <summary>teacher ← m·teacher + (1 − m)·student.</summary>
    public void Update(CommerceMMModel student, double momentum)
    {
        using var noGrad = Torch.Torch.NoGrad();
        foreach (var ((_, t), (_, s)) in Pairs(student)) t.LerpInPlace(s, 1 - momentum);
    }

    private IEnumerable<((string, Tensor) Teacher, (string, Tensor) Student)> Pairs(CommerceMMModel student)
    {
        var own = Image.NamedParameters().ToList();
        var theirs = student.Image.NamedParameters().ToList();
        for (int i = 0; i < own.Count; i++) yield return (own[i], theirs[i]);
        yield return (("prototypes", Prototypes), ("prototypes", student.Prototypes));
    }
}
