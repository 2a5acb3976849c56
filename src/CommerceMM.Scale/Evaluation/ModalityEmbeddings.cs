using CommerceMM.Data.Scale;
using CommerceMM.Scale.Config;
using CommerceMM.Torch;

namespace CommerceMM.Scale.Evaluation;

/// <summary>
/// Each product's pooled, L2-normalised embedding per modality, as the model computes them (dropout
/// off, no graph), kept apart so that any modality subset can be summed later without encoding again.
/// Owns its tensor.
/// </summary>
public sealed class ModalityEmbeddings : IDisposable
{
    // Owned: taken out of any caller's dispose scope, which might close before this object is disposed.
    private ModalityEmbeddings(Tensor pooled, bool[,] available, int[] categories) =>
        (Pooled, Available, Categories) = (DisposeScope.Detach(pooled), available, categories);

    /// <summary>(N, 5, E) in <see cref="ScaleModality"/> order; zeros where <see cref="Available"/> is false.</summary>
    public Tensor Pooled { get; }
    /// <summary>N × 5: the product has the modality and the model enables it.</summary>
    public bool[,] Available { get; }
    /// <summary>N category labels; -1 where unknown.</summary>
    public int[] Categories { get; }
    public int Count => Categories.Length;

    /// <summary>The first <paramref name="limit"/> samples of a stream (all when null), in order, <paramref name="batchSize"/> at a time.</summary>
    /// <exception cref="ArgumentException">The stream is empty or the data set's vocabulary is not the model's.</exception>
    public static ModalityEmbeddings Compute(ScaleModel model, ScaleBatchReader reader, int? limit, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (reader.Tokenizer.VocabSize != model.Config.Text.VocabSize)
            throw new ArgumentException($"the data set's tokenizer has {reader.Tokenizer.VocabSize} pieces but the model was built for model.text.vocab_size={model.Config.Text.VocabSize}: evaluate on the data set the model was trained on");
        int count = Math.Min(reader.Samples, limit ?? int.MaxValue);
        if (count < 1) throw new ArgumentException($"nothing to embed: the stream has {reader.Samples} samples and the limit is {limit}");
        var parts = new List<ModalityEmbeddings>();
        try
        {
            for (int start = 0; start < count; start += batchSize)
            {
                using var batch = reader.Read(start, Math.Min(batchSize, count - start));
                parts.Add(FromInputs(model, ScaleData.Inputs(batch), batch.Categories.ToArray<long>().Select(c => (int)c).ToArray()));
            }
            return Concat(parts);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>One batch of products; <paramref name="categories"/> gives their labels (-1 unknown).</summary>
    public static ModalityEmbeddings FromInputs(ScaleModel model, ScaleInputs inputs, int[] categories)
    {
        long rows = inputs.Rows;
        if (categories.Length != rows) throw new ArgumentException($"{categories.Length} categories for {rows} products", nameof(categories));
        var config = model.Config;
        bool[] given = inputs.Present.ToArray<bool>();
        var available = new bool[rows, ScaleModalities.Count];
        for (int r = 0; r < rows; r++)
            foreach (var m in ScaleModalities.All)
                available[r, (int)m] = config.Enabled(m) && given[r * ScaleModalities.Count + (int)m];

        bool wasTraining = model.Training;
        model.Eval();   // dropout off: an embedding must not depend on the dropout generator's state
        try
        {
            using var noGrad = Torch.Torch.NoGrad();
            using var scope = DisposeScope.Open();
            var present = Torch.Torch.FromArray(Flatten(available), rows, ScaleModalities.Count);
            // Pooled embeddings come from each modality's own encoder; the fusion output is not used.
            var encoding = model.Encode(inputs, present, plan: null);
            var zeros = Torch.Torch.Zeros([rows, config.EmbedDim]);
            var stacked = Torch.Torch.Stack(ScaleModalities.All.Select(m => encoding[m]?.Pooled ?? zeros).ToList(), 1);   // (B, 5, E)
            // Where, not a product with the mask: a missing slot may hold anything, even a non-finite value.
            var pooled = Torch.Torch.Where(present.Unsqueeze(-1), stacked, zeros.Unsqueeze(1));
            return new ModalityEmbeddings(scope.MoveToOuter(pooled), available, categories);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>
    /// Each product's embedding for a modality subset: the sum of its pooled embeddings over the
    /// modalities it has among <paramref name="modalities"/>, L2-normalised; a missing modality adds
    /// nothing. Products with none of them have no embedding and are left out (<see cref="ProductEmbeddings.Rows"/> says which remain).
    /// </summary>
    /// <remarks>
    /// Normalising the sum (ours; M5Product sums features and stops there) makes the dot product a
    /// cosine. Without it a sum of k unit vectors has a norm that grows with k, so products having more
    /// modalities would score higher against every query: a ranking by how complete a listing is, not
    /// by what it shows. Each term is already unit-length, so no modality outweighs another.
    /// </remarks>
    public ProductEmbeddings Combine(IReadOnlyCollection<ScaleModality> modalities)
    {
        if (modalities.Count == 0) throw new ArgumentException("sum at least one modality", nameof(modalities));
        var use = new bool[Count, ScaleModalities.Count];
        var keep = new List<long>();
        for (int r = 0; r < Count; r++)
        {
            bool any = false;
            foreach (var m in modalities) any |= use[r, (int)m] = Available[r, (int)m];
            if (any) keep.Add(r);
        }
        int[] rows = keep.Select(r => (int)r).ToArray();
        if (rows.Length == 0) return new ProductEmbeddings(DisposeScope.Detach(Torch.Torch.Zeros([0, Pooled.Size(2)])), rows, []);
        using var noGrad = Torch.Torch.NoGrad();
        using var scope = DisposeScope.Open();
        var mask = Torch.Torch.FromArray(Flatten(use), Count, ScaleModalities.Count).Unsqueeze(-1);   // (N, 5, 1)
        var zero = Torch.Torch.Zeros([1]);
        var summed = Torch.Torch.Where(mask, Pooled, zero).Sum(1);                                      // (N, E)
        var vectors = summed.IndexSelect(0, Torch.Torch.FromArray(keep.ToArray())).Normalize(-1);
        return new ProductEmbeddings(DisposeScope.Detach(vectors), rows, rows.Select(r => Categories[r]).ToArray());
    }

    private static ModalityEmbeddings Concat(IReadOnlyList<ModalityEmbeddings> parts)
    {
        int total = parts.Sum(p => p.Count);
        var available = new bool[total, ScaleModalities.Count];
        int offset = 0;
        foreach (var p in parts)
        {
            for (int r = 0; r < p.Count; r++)
                for (int m = 0; m < ScaleModalities.Count; m++) available[offset + r, m] = p.Available[r, m];
            offset += p.Count;
        }
        return new ModalityEmbeddings(Torch.Torch.Cat(parts.Select(p => p.Pooled).ToList()), available, parts.SelectMany(p => p.Categories).ToArray());
    }

    private static bool[] Flatten(bool[,] grid)
    {
        int rows = grid.GetLength(0), columns = grid.GetLength(1);
        var flat = new bool[rows * columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) flat[r * columns + c] = grid[r, c];
        return flat;
    }

    public void Dispose() => Pooled.Dispose();
}

/// <summary>One embedding per product for a modality subset, (M, E) L2-normalised. Owns its tensor.</summary>
/// <param name="Vectors">(M, E), one row per product that has any of the subset's modalities</param>
/// <param name="Rows">for each vector, the product's position in the embedded stream</param>
/// <param name="Categories">for each vector, the product's category (-1 unknown)</param>
public sealed record ProductEmbeddings(Tensor Vectors, int[] Rows, int[] Categories) : IDisposable
{
    public int Count => Rows.Length;

    public void Dispose() => Vectors.Dispose();
}
