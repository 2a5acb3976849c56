namespace CommerceMM.Model.Config;

/// <summary>Small validation helpers shared by the model configurations (CommerceMM, SCALE).</summary>
public static class ConfigChecks
{
    public static void Positive(string key, int value)
    {
        if (value <= 0) throw new ConfigException(key, $"must be a positive integer, got {value}");
    }

    /// <summary>The shape keys both models share (model.dim, heads, ffn_multiplier, embed_dim, fusion_layers, dropout).</summary>
    public static void Transformer(int dim, int heads, int ffnMultiplier, int embedDim, int fusionLayers, double dropout)
    {
        Positive("model.dim", dim);
        Positive("model.heads", heads);
        if (dim % heads != 0) throw new ConfigException("model.heads", $"{heads} heads do not divide the width model.dim={dim}");
        Positive("model.ffn_multiplier", ffnMultiplier);
        Positive("model.embed_dim", embedDim);
        Positive("model.fusion_layers", fusionLayers);
        if (dropout is < 0 or >= 1) throw new ConfigException("model.dropout", $"must be in [0, 1), got {dropout}");
    }
}
