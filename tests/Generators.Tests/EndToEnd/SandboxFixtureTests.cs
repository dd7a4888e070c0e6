using System.Collections.Concurrent;
using TypedSandbox.Testing;
using TypedSandbox.Xunit;
using Xunit.Abstractions;

namespace TypedSandbox.Generators.Tests.EndToEnd;

/// <summary>
/// <see cref="SandboxFixture{T}"/> through the lifecycle xUnit gives a class fixture, against the real engine: one
/// sandbox created (its image build in the diagnostic messages), shared, and terminated at the end.
/// </summary>
[Collection(DslEngineGroup.Name)]
public sealed class SandboxFixtureTests(DslEngineFixture engine)
{
    [Fact]
    public async Task The_fixture_creates_one_sandbox_reports_its_build_and_terminates_it_at_the_end()
    {
        var sink = new MessageLog();
        var fixture = new EngineSandboxFixture<FixtureBox>(sink, engine.ConfigPath);

        await fixture.InitializeAsync();
        var sandboxId = fixture.Instance.Sandbox.SandboxId;
        var first = await fixture.Instance.EchoAsync("first test");
        var second = await fixture.Instance.EchoAsync("second test");
        await fixture.DisposeAsync();

        Assert.Equal("first test\n", first);
        Assert.Equal("second test\n", second);
        Assert.Contains(sink.Lines, l => l.StartsWith("[FixtureBox] [build im-", StringComparison.Ordinal) && l.Contains("RUN echo fixture-build-$((7*6))", StringComparison.Ordinal));
        Assert.Contains(sink.Lines, l => l.StartsWith("[FixtureBox] [build im-", StringComparison.Ordinal) && l.EndsWith("] fixture-build-42", StringComparison.Ordinal));
        var ended = await engine.Client.Sandboxes.FromIdAsync(sandboxId);
        Assert.NotNull(await ended.PollAsync());
        await ended.DetachAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => fixture.Client.Apps.FromNameAsync("dsl-e2e"));
    }

    [Fact]
    public void An_uninitialized_fixture_says_so()
    {
        var fixture = new SandboxFixture<FixtureBox>(new MessageLog());

        var error = Assert.Throws<InvalidOperationException>(() => fixture.Instance);

        Assert.Equal("SandboxFixture<FixtureBox> has not been initialized.", error.Message);
    }

    private sealed class EngineSandboxFixture<T>(IMessageSink sink, string configPath) : SandboxFixture<T>(sink)
        where T : class, ITypedSandbox<T>
    {
        protected override SandboxClientOptions CreateClientOptions() => new() { ConfigPath = configPath };
    }

    private sealed class MessageLog : global::Xunit.LongLivedMarshalByRefObject, IMessageSink
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => [.. _lines];

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is IDiagnosticMessage diagnostic)
            {
                _lines.Enqueue(diagnostic.Message);
            }

            return true;
        }
    }
}

/// <summary>The class the fixture tests share.</summary>
[Sandbox(App = "dsl-e2e", Timeout = "5m")]
[SandboxImage("busybox:latest", RunCommands = ["echo fixture-build-$((7*6))"])]
public partial class FixtureBox
{
    /// <summary>Echoes <paramref name="text"/>.</summary>
    /// <param name="text">The text.</param>
    [Command("echo", "{text}")]
    public partial Task<string> EchoAsync(string text);
}

/// <summary>
/// <see cref="SandboxFixture{T}"/> as xUnit itself runs a class fixture (constructed with its message sink, initialized
/// before the first test, disposed after the last); the fixture starts the engine its client talks to first.
/// </summary>
public sealed class SandboxFixtureAsClassFixtureTests(SandboxFixtureAsClassFixtureTests.EngineBackedFixture fixture, ITestOutputHelper output)
    : IClassFixture<SandboxFixtureAsClassFixtureTests.EngineBackedFixture>
{
    [Fact]
    public async Task Tests_of_the_class_share_the_fixtures_sandbox()
    {
        fixture.TestOutput = output;

        Assert.Equal("shared\n", await fixture.Instance.EchoAsync("shared"));
        Assert.Null(await fixture.Instance.Sandbox.PollAsync());
    }

    /// <summary>A fixture whose client talks to an engine it starts before the sandbox and stops after it.</summary>
    public sealed class EngineBackedFixture(IMessageSink messageSink) : SandboxFixture<FixtureBox>(messageSink), IAsyncLifetime
    {
        private TestEngine? _engine;

        async Task IAsyncLifetime.InitializeAsync()
        {
            _engine = await TestEngine.StartAsync();
            await InitializeAsync();
        }

        async Task IAsyncLifetime.DisposeAsync()
        {
            try
            {
                await DisposeAsync();
            }
            finally
            {
                if (_engine is not null)
                {
                    await _engine.DisposeAsync();
                }
            }
        }

        protected override SandboxClientOptions CreateClientOptions() =>
            new() { ConfigPath = _engine?.ConfigPath ?? throw new InvalidOperationException("The engine has not started.") };
    }
}
