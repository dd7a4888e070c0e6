using Microsoft.Extensions.Logging;

namespace TypedSandbox.Samples;

/// <summary>
/// Prints the image build log the client reports through its logger ("TypedSandbox.Images", debug level), line by
/// line and synchronously, so lines appear in the order the engine wrote them.
/// </summary>
internal sealed class BuildLogPrinter : ILoggerProvider, ILogger
{
    private const string ImagesCategory = "TypedSandbox.Images";
    private const string TextField = "Text";

    private readonly Lock _gate = new();

    public ILogger CreateLogger(string categoryName) => categoryName == ImagesCategory ? this : NullLogger.Instance;

    public bool IsEnabled(LogLevel logLevel) => true;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        // Only build output carries a "Text" field; other image messages ("Building image ...") are not shown.
        if (state is not IReadOnlyList<KeyValuePair<string, object?>> fields ||
            fields.FirstOrDefault(f => f.Key == TextField).Value is not string text)
        {
            return;
        }

        lock (_gate)
        {
            foreach (var line in text.Split('\n'))
            {
                if (line.TrimEnd('\r') is { Length: > 0 } trimmed)
                {
                    Console.WriteLine($"  [build] {trimmed}");
                }
            }
        }
    }

    public void Dispose()
    {
    }

    private sealed class NullLogger : ILogger
    {
        public static readonly NullLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }
}
