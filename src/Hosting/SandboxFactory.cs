namespace TypedSandbox.Hosting;

/// <summary>
/// Creates instances of a <c>[Sandbox]</c> class with the application's <see cref="SandboxClient"/>; registered by
/// <c>services.AddSandbox&lt;T&gt;()</c> and injected where sandboxes are needed.
/// </summary>
/// <typeparam name="TSandbox">The <c>[Sandbox]</c> class.</typeparam>
public sealed class SandboxFactory<TSandbox>
    where TSandbox : class
{
    private readonly SandboxClient _client;
    private readonly Func<SandboxClient?, CancellationToken, Task<TSandbox>> _create;

    /// <summary>Creates a factory.</summary>
    /// <param name="client">The client sandboxes are created with.</param>
    /// <param name="create">Creates an instance with the given client (a <c>[Sandbox]</c> class's <c>CreateAsync</c>).</param>
    public SandboxFactory(SandboxClient client, Func<SandboxClient?, CancellationToken, Task<TSandbox>> create)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(create);
        _client = client;
        _create = create;
    }

    /// <summary>Creates a sandbox as the class declares; dispose the result to terminate it.</summary>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public Task<TSandbox> CreateAsync(CancellationToken cancellationToken = default) => _create(_client, cancellationToken);
}
