using Microsoft.Extensions.Logging;

namespace TypedSandbox;

/// <summary>
/// What a client logs through when <see cref="SandboxClientOptions.LoggerFactory"/> is unset, as Testcontainers does:
/// the client's own messages (image build progress, warnings) from <see cref="LogLevel.Information"/> up, one line each
/// on standard error. Transport libraries' messages are left out.
/// </summary>
internal sealed class ConsoleLoggerFactory : ILoggerFactory
{
    private const string ClientCategoryPrefix = "TypedSandbox";

    public static ConsoleLoggerFactory Instance { get; } = new();

    private ConsoleLoggerFactory()
    {
    }

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(ClientCategoryPrefix, StringComparison.Ordinal) ? ConsoleLogger.Instance : DisabledLogger.Instance;

    /// <summary>Not supported: a client that should log elsewhere takes its own factory.</summary>
    public void AddProvider(ILoggerProvider provider) =>
        throw new NotSupportedException("Set SandboxClientOptions.LoggerFactory to log elsewhere.");

    public void Dispose()
    {
    }

    private sealed class ConsoleLogger : ILogger
    {
        public static readonly ConsoleLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Information and < LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var level = logLevel switch
            {
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            var text = exception is null ? formatter(state, exception) : $"{formatter(state, exception)}\n{exception}";
            // Console.Error is read at each call (a host may redirect it) and writes a whole line atomically.
            Console.Error.WriteLine($"[TypedSandbox {level}] {text}");
        }
    }

    private sealed class DisabledLogger : ILogger
    {
        public static readonly DisabledLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }
}
