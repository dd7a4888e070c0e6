namespace TypedSandbox.Engine.Tests;

/// <summary>
/// How long a test waits for something that must happen before it fails instead of hanging (not a speed assertion:
/// everything here completes in milliseconds).
/// </summary>
internal static class Patience
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Wait);

    /// <summary>Waits until <paramref name="condition"/> holds (background work such as a pool refill), or fails.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(Wait);
        while (!condition())
        {
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"Waited {Wait.TotalSeconds:0} s for {what}.");
            }

            await Task.Delay(5, CancellationToken.None);
        }
    }
}
