using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CommerceMM.Model.Config;

namespace CommerceMM.Worker.Checkpointing;

/// <summary>A short hash of everything that shapes the weights (sizes, vocabulary), not of training settings.</summary>
public static class ConfigHashing
{
    public static string Hash(CommerceMMConfig c)
    {
        var shape = new
        {
            c.Dim, c.Heads, c.FfnMultiplier, c.EmbedDim, c.FusionLayers,
            Text = new { c.Text.VocabSize, c.Text.Layers, c.Text.MaxLength },
            Image = new { c.Image.Channels, c.Image.Size, c.Image.Patch, c.Image.Layers },
            c.Mim.Prototypes,
        };
        byte[] digest = SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(shape)));
        return Convert.ToHexStringLower(digest)[..16];
    }
}
