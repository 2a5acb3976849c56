using CommerceMM.Model.Config;

namespace CommerceMM.Worker.Spec;

internal static class ConfigErrors
{
    /// <summary>Runs a model-config check, reporting its <see cref="ConfigException"/> as the spec error of the same key.</summary>
    public static void AsSpecErrors(Action check)
    {
        try
        {
            check();
        }
        catch (ConfigException e)
        {
            throw new SpecException(e.Key, e.Message[(e.Key.Length + 2)..], e);
        }
    }
}
