using System.Security.Cryptography;
using System.Text;

namespace CommerceMM.Data.Catalog;

/// <summary>
/// Which products are held out for `cmm eval`: the catalog's "split" where it gives one; otherwise a product is held out
/// when a hash of its id falls under the share, so a product keeps its split when the catalog grows. At least one
/// product is held out when the share is not 0. Decided in one pass over the products (<see cref="Observe"/>, then
/// <see cref="Finish"/>), then asked of each (<see cref="IsEval"/>).
/// </summary>
internal sealed class EvalSplit(double share)
{
    private string? _lowestUnitId;
    private double _lowestUnit = double.MaxValue;
    private int _undecidedTrain;
    private string? _heldOutAnyway;
    private bool _finished;

    public int Eval { get; private set; }

    public int Train { get; private set; }

    public void Observe(CatalogProduct product)
    {
        if (IsEvalByCatalogOrShare(product, out double unit))
        {
            Eval++;
            return;
        }
        Train++;
        if (product.Split is not null) return;
        _undecidedTrain++;
        if (unit < _lowestUnit) (_lowestUnit, _lowestUnitId) = (unit, product.Id);
    }

    /// <summary>After the last <see cref="Observe"/>: holds out the train product nearest the share when none was.</summary>
    public void Finish()
    {
        _finished = true;
        if (share > 0 && Eval == 0 && _undecidedTrain > 1)
            (_heldOutAnyway, Eval, Train) = (_lowestUnitId, 1, Train - 1);
    }

    public bool IsEval(CatalogProduct product)
    {
        if (!_finished) throw new InvalidOperationException($"{nameof(Finish)} first: the split is decided by every product");
        return IsEvalByCatalogOrShare(product, out _) || product.Id == _heldOutAnyway;
    }

    private bool IsEvalByCatalogOrShare(CatalogProduct p, out double unit)
    {
        unit = p.Split is null ? Unit(p.Id) : double.NaN;
        return p.Split == CatalogSplit.Eval || (p.Split is null && unit < share);
    }

    /// <summary>The id's place in [0, 1), from its SHA-256.</summary>
    private static double Unit(string id) =>
        BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes("cmm-eval-split|" + id)), 0) / 18446744073709551616.0;
}
