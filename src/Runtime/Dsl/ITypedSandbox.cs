namespace TypedSandbox;

/// <summary>
/// What every generated <c>[Sandbox]</c> class implements: its static <c>CreateAsync</c> and the sandbox it runs in, so
/// generic code (dependency injection's <c>services.AddSandbox&lt;T&gt;()</c>, test fixtures) can create any of them.
/// </summary>
/// <typeparam name="TSelf">The <c>[Sandbox]</c> class itself.</typeparam>
public interface ITypedSandbox<TSelf>
    where TSelf : class, ITypedSandbox<TSelf>
{
    /// <summary>Creates a sandbox as the class's attributes declare.</summary>
    /// <param name="client">The client to use; <see cref="SandboxClient.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    static abstract Task<TSelf> CreateAsync(SandboxClient? client = null, CancellationToken cancellationToken = default);

    /// <summary>The sandbox this instance runs its commands in.</summary>
    Sandbox Sandbox { get; }
}
