using System.Diagnostics.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace TypedSandbox.Xunit;

/// <summary>
/// One sandbox of a <c>[Sandbox]</c> class for a whole test class (<c>IClassFixture&lt;SandboxFixture&lt;TestRunner&gt;&gt;</c>):
/// created before the class's first test, terminated after its last. The client's logs (the image build's steps and
/// output, warnings) go to xUnit's diagnostic messages, and to the running test's output while
/// <see cref="TestOutput"/> is set.
/// </summary>
/// <typeparam name="T">The <c>[Sandbox]</c> class.</typeparam>
[SuppressMessage("Design", "CA1001", Justification = "xUnit ends a fixture through IAsyncLifetime.DisposeAsync, which disposes the client.")]
public class SandboxFixture<T> : IAsyncLifetime
    where T : class, ITypedSandbox<T>
{
    private readonly FixtureLog _log;
    private SandboxClient? _client;
    private T? _instance;

    /// <summary>Creates the fixture; xUnit passes its message sink.</summary>
    /// <param name="messageSink">Receives the client's logs as diagnostic messages.</param>
    public SandboxFixture(IMessageSink messageSink)
    {
        ArgumentNullException.ThrowIfNull(messageSink);
        _log = new FixtureLog(messageSink, typeof(T).Name);
    }

    /// <summary>The instance of <typeparamref name="T"/> the test class shares.</summary>
    /// <exception cref="InvalidOperationException">xUnit has not initialized the fixture.</exception>
    public T Instance => _instance ?? throw new InvalidOperationException($"SandboxFixture<{typeof(T).Name}> has not been initialized.");

    /// <summary>The client the sandbox was created with.</summary>
    /// <exception cref="InvalidOperationException">xUnit has not initialized the fixture.</exception>
    public SandboxClient Client => _client ?? throw new InvalidOperationException($"SandboxFixture<{typeof(T).Name}> has not been initialized.");

    /// <summary>The running test's output: set it in the test class's constructor to see the client's logs there too.</summary>
    public ITestOutputHelper? TestOutput
    {
        get => _log.TestOutput;
        set => _log.TestOutput = value;
    }

    /// <summary>Creates the client and the sandbox.</summary>
    public async Task InitializeAsync()
    {
        _client = new SandboxClient(CreateClientOptions() with { LoggerFactory = _log });
        _instance = await T.CreateAsync(_client, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Terminates the sandbox and disposes the client.</summary>
    public async Task DisposeAsync()
    {
        try
        {
            if (_instance is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
            else if (_instance is not null)
            {
                await _instance.Sandbox.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            if (_client is not null)
            {
                await _client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The client's settings; by default those of <see cref="SandboxClient"/> (<c>MODAL_*</c> variables, then the
    /// Modal config file). The fixture's own logger replaces <see cref="SandboxClientOptions.LoggerFactory"/>.
    /// </summary>
    protected virtual SandboxClientOptions CreateClientOptions() => new();
}
