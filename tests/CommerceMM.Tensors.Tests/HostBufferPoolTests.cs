namespace CommerceMM.Tensors.Tests;

public class HostBufferPoolTests
{
    [Fact]
    public void Rent_AfterReturn_GivesTheSameArrayBack_OnlyForItsLength()
    {
        var pool = new HostBufferPool();
        byte[] a = pool.Rent(1000);
        Assert.Equal(1000, a.Length);
        pool.Return(a);

        Assert.NotSame(a, pool.Rent(999));
        Assert.Same(a, pool.Rent(1000));
        Assert.NotSame(a, pool.Rent(1000));   // rented out again: a new one
    }

    [Fact]
    public void Return_KeepsAtMostTheBound_AndEachArrayOnce()
    {
        var pool = new HostBufferPool(maxKeptPerLength: 2);
        byte[][] rented = [pool.Rent(16), pool.Rent(16), pool.Rent(16)];
        foreach (var b in rented) pool.Return(b);
        pool.Return(rented[0]);

        var again = new[] { pool.Rent(16), pool.Rent(16), pool.Rent(16) };
        Assert.Equal(2, again.Count(b => rented.Contains(b)));
        Assert.Equal(3, again.Distinct().Count());
    }

    [Fact]
    public void Return_OfMemoryNotBackedByAnArray_IsIgnored()
    {
        var pool = new HostBufferPool();
        pool.Return(ReadOnlyMemory<byte>.Empty);
        Assert.Equal(8, pool.Rent(8).Length);
    }
}
