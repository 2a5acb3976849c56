using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// The base of every module we write. Everything is registered explicitly, in constructor order, under
/// PyTorch's names, so state dicts keep today's names ("layers.0.self_attn.in_proj_weight").
/// </summary>
/// <remarks>
/// TorchSharp's <c>register_module</c> calls the child's <c>RegisterComponents</c>, which would register
/// every field again under its C# name (an auto-property's backing field, a tied embedding held for
/// reuse): duplicate state-dict entries. Here it does nothing. Direct parameters and buffers live in
/// fields marked <c>[ComponentName]</c> with their registered name, so <c>module.to(device)</c>, which
/// replaces parameter objects, updates those fields too; expose them through expression-bodied properties.
/// </remarks>
public abstract class ExplicitModule(string name) : nn.Module(name)
{
    protected override void RegisterComponents() { }

    /// <summary>Registers a trainable parameter owned by this module (never by a dispose scope).</summary>
    protected Parameter AddParameter(string name, Tensor initial, bool requiresGrad = true)
    {
        var parameter = new Parameter(initial, requiresGrad);
        parameter.DetachFromDisposeScope();
        register_parameter(name, parameter);
        return parameter;
    }

    /// <summary>Registers state that is saved and loaded but not trained (e.g. the mim_kl centre).</summary>
    protected Tensor AddBuffer(string name, Tensor tensor)
    {
        tensor.DetachFromDisposeScope();
        register_buffer(name, tensor);
        return tensor;
    }

    protected T AddModule<T>(string name, T module) where T : nn.Module
    {
        register_module(name, module);
        return module;
    }
}
