using CommerceMM.Data.Scale;
using CommerceMM.Model.NN;
using CommerceMM.Scale.Config;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Evaluation;

/// <summary>
/// Each product's pooled, L2-normalised embedding per modality, as the model computes them (dropout
/// off, no graph), kept apart so that any modality subset can be summed later without encoding again.
/// Lives on the model's device. Owns its tensor.
/// </summary>
public sealed class ModalityEmbeddings : IDisposable
{
    // Owned: taken out of any caller's dispose scope, which might close before this object is disposed.
    private ModalityEmbeddings(Tensor pooled, bool[,] available, int[] categories) =>
        (Pooled, Available, Categories) = (pooled.DetachFromDisposeScope(), available, categories);

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
                parts.Add(FromInputs(model, ScaleData.Inputs(batch), Scalars.ToArray<long>(batch.Categories).Select(c => (int)c).ToArray()));
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
        bool[] given = Scalars.ToArray<bool>(inputs.Present);
        var available = new bool[rows, ScaleModalities.Count];
        for (int r = 0; r < rows; r++)
            foreach (var m in ScaleModalities.All)
                available[r, (int)m] = config.Enabled(m) && given[r * ScaleModalities.Count + (int)m];

        bool wasTraining = model.training;
        model.eval();   // dropout off: an embedding must not depend on the dropout generator's state
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var device = model.Device;
            var present = tensor(Flatten(available), [rows, ScaleModalities.Count], device: device);
            // Pooled embeddings come from each modality's own encoder; the fusion output is not used.
            var encoding = model.Encode(inputs.To(device), present, plan: null);
            var none = zeros(rows, config.EmbedDim, dtype: encoding.Parts[0].Pooled.dtype, device: device);
            var stacked = stack(ScaleModalities.All.Select(m => encoding[m]?.Pooled ?? none).ToList(), 1);   // (B, 5, E)
            // A fill, not a product with the mask: a missing slot may hold anything, even a non-finite value.
            var pooled = stacked.MaskedFill(present.unsqueeze(-1).logical_not(), 0.0);
            return new ModalityEmbeddings(pooled.MoveToOuterDisposeScope(), available, categories);
        }
        finally
        {
            model.train(wasTraining);
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
        var device = Pooled.device;
        if (rows.Length == 0) return new ProductEmbeddings(zeros(0, Pooled.size(2), dtype: Pooled.dtype, device: device).DetachFromDisposeScope(), rows, []);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var mask = tensor(Flatten(use), [Count, ScaleModalities.Count], device: device).unsqueeze(-1);   // (N, 5, 1)
        var summed = Pooled.MaskedFill(mask.logical_not(), 0.0).sum(1);                                    // (N, E)
        var vectors = nn.functional.normalize(summed.index_select(0, tensor(keep.ToArray(), device: device)), dim: -1);
        return new ProductEmbeddings(vectors.DetachFromDisposeScope(), rows, rows.Select(r => Categories[r]).ToArray());
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
        return new ModalityEmbeddings(cat(parts.Select(p => p.Pooled).ToList(), 0), available, parts.SelectMany(p => p.Categories).ToArray());
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
