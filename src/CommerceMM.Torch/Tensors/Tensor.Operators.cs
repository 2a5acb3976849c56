using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch;

public sealed partial class Tensor
{
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator -(Tensor a) => a.Neg();

    public static Tensor operator +(Tensor a, double s) => a.Add(s);
    public static Tensor operator -(Tensor a, double s) => a.Sub(s);
    public static Tensor operator *(Tensor a, double s) => a.Mul(s);
    public static Tensor operator /(Tensor a, double s) => a.Div(s);
    public static Tensor operator +(double s, Tensor a) => a.Add(s);
    public static Tensor operator -(double s, Tensor a) => Wrap(NativeMethods.cmm_tensor_rsub_scalar(a.Handle, s));
    public static Tensor operator *(double s, Tensor a) => a.Mul(s);
}
