using CommerceMM.Data.Format;

namespace CommerceMM.Data.Loading;

/// <summary>
/// What a <see cref="ShardedLoader{TBatch}"/> needs to know about one kind of stream: decode each stored
/// sample of a step (a bad one is left out, its reason added to <c>skipped</c>) and collate the rest into
/// a batch. Order, sharding, prefetch and resume stay the loader's, the same for every kind.
/// Called on decode threads: implementations must be thread-safe.
/// </summary>
internal interface IBatchFormat<out TBatch> where TBatch : Batch
{
    TBatch Build(IReadOnlyList<ShardSample> samples, List<SkipReason> skipped, long epoch, long step, LoaderPosition position);
}
