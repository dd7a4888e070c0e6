using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace TypedSandbox.Xunit;

/// <summary>The client's own messages from <see cref="LogLevel.Information"/> up, as xUnit diagnostic messages and test output lines.</summary>
internal sealed class FixtureLog(IMessageSink messageSink, string sandboxClass) : ILoggerFactory, ILogger
{
    private const string ClientCategoryPrefix = "TypedSandbox";

    public ITestOutputHelper? TestOutput { get; set; }

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(ClientCategoryPrefix, StringComparison.Ordinal) ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("Override SandboxFixture.CreateClientOptions to log elsewhere.");

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Information and < LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var line = $"[{sandboxClass}] {formatter(state, exception)}{(exception is null ? string.Empty : "\n" + exception)}";
        messageSink.OnMessage(new Diagnostic(line));
        try
        {
            TestOutput?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test that set the output has ended; its helper refuses further lines.
        }
    }

    public void Dispose()
    {
    }

    private sealed class Diagnostic(string message) : IDiagnosticMessage
    {
        public string Message => message;
    }
}
