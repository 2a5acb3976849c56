namespace CommerceMM.Torch.NN;

/// <summary>An indexed list of submodules named "0", "1", … (PyTorch's nn.ModuleList naming).</summary>
public sealed class ModuleList<T> : Module where T : Module
{
    private readonly List<T> _items = [];

    public ModuleList(IEnumerable<T> items)
    {
        foreach (var item in items) _items.Add(RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), item));
    }

    public int Count => _items.Count;

    public T this[int index] => _items[index];
}
