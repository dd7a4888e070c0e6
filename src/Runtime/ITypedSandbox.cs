namespace TypedSandbox;

/// <summary>
/// A class the generator completes from its <c>[Sandbox]</c> attributes: created with <see cref="CreateAsync"/>, each
/// instance runs its commands on one <see cref="Sandbox"/>. Lets generic code (such as a test fixture) create any such
/// class; every <c>[Sandbox]</c> class implements it.
/// </summary>
/// <typeparam name="TSelf">The <c>[Sandbox]</c> class itself.</typeparam>
public interface ITypedSandbox<TSelf>
    where TSelf : class, ITypedSandbox<TSelf>
{
    /// <summary>The sandbox this instance runs its commands in.</summary>
    Sandbox Sandbox { get; }

    /// <summary>Creates a sandbox as the class's attributes declare it.</summary>
    /// <param name="client">The client to use; <see cref="SandboxClient.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>The instance, its sandbox running.</returns>
    static abstract Task<TSelf> CreateAsync(SandboxClient? client = null, CancellationToken cancellationToken = default);
}
