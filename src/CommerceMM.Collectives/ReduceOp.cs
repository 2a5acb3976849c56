namespace CommerceMM.Collectives;

/// <summary>Reductions for all-reduce. Values are the native ABI's codes.</summary>
public enum ReduceOp
{
    Sum = 0,
    /// <summary>Sum divided by the world size (Gloo divides after summing; NCCL uses ncclAvg). Floating types only.</summary>
    Average = 1,
    Max = 2,
    Min = 3,
}
