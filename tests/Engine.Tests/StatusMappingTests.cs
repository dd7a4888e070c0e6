using Grpc.Core;
using Microsoft.Extensions.Logging;
using TypedSandbox.Server.Api;
using TypedSandbox.Server.Engine;
using TypedSandbox.Server.Exec;
using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Engine.Tests;

/// <summary>The engine's one error path: which status each failure reaches the caller with.</summary>
public sealed class StatusMappingTests
{
    private readonly RecordingLogger _log = new();

    [Theory]
    [InlineData(nameof(EngineErrorKind.InvalidArgument), StatusCode.InvalidArgument)]
    [InlineData(nameof(EngineErrorKind.NotFound), StatusCode.NotFound)]
    [InlineData(nameof(EngineErrorKind.AlreadyExists), StatusCode.AlreadyExists)]
    [InlineData(nameof(EngineErrorKind.FailedPrecondition), StatusCode.FailedPrecondition)]
    [InlineData(nameof(EngineErrorKind.Unavailable), StatusCode.Unavailable)]
    [InlineData(nameof(EngineErrorKind.Unauthenticated), StatusCode.Unauthenticated)]
    [InlineData(nameof(EngineErrorKind.PermissionDenied), StatusCode.PermissionDenied)]
    [InlineData(nameof(EngineErrorKind.ResourceExhausted), StatusCode.ResourceExhausted)]
    public void An_engine_failure_keeps_its_kind_and_message(string kind, StatusCode expected)
    {
        var status = Map(new EngineException(Enum.Parse<EngineErrorKind>(kind), "what went wrong")).Status;

        Assert.Equal(expected, status.StatusCode);
        Assert.Equal("what went wrong", status.Detail);
        Assert.Empty(_log.Errors);
    }

    [Fact]
    public void The_isolation_and_image_failures_map_to_what_they_mean()
    {
        Assert.Equal(StatusCode.FailedPrecondition, Map(new SandboxEndedException()).StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, Map(new ExecStartException("no such file")).StatusCode);
        Assert.Equal(StatusCode.Unavailable, Map(new ContainerStartException("crun failed")).StatusCode);
        Assert.Equal(StatusCode.NotFound, Map(new ImageNotFoundException("library/nothing", "no such image")).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, Map(new InvalidImageDefinitionException("bad Dockerfile")).StatusCode);
        Assert.Empty(_log.Errors);
    }

    [Theory]
    [InlineData(typeof(ArgumentNullException))]
    [InlineData(typeof(ArgumentException))]
    [InlineData(typeof(ArgumentOutOfRangeException))]
    [InlineData(typeof(NullReferenceException))]
    [InlineData(typeof(InvalidOperationException))]
    public void An_unexpected_exception_is_internal_with_an_error_id_in_the_log_and_the_message(Type type)
    {
        var bug = (Exception)Activator.CreateInstance(type)!;

        var status = Map(bug).Status;

        Assert.Equal(StatusCode.Internal, status.StatusCode);
        var (exception, message) = Assert.Single(_log.Errors);
        Assert.Same(bug, exception);
        var id = message.Split("error id ")[1][..12];
        Assert.Contains($"error id {id}", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancellation_by_the_caller_is_cancelled_and_otherwise_a_bug()
    {
        Assert.Equal(StatusCode.Cancelled, StatusMapping.ToRpcException(new OperationCanceledException(), callCancelled: true, "/m", _log).StatusCode);
        Assert.Equal(StatusCode.Internal, StatusMapping.ToRpcException(new OperationCanceledException(), callCancelled: false, "/m", _log).StatusCode);
    }

    private RpcException Map(Exception exception) => StatusMapping.ToRpcException(exception, callCancelled: false, "/modal.client.ModalClient/SandboxCreate", _log);

    private sealed class RecordingLogger : ILogger
    {
        public List<(Exception? Exception, string Message)> Errors { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
            {
                Errors.Add((exception, formatter(state, exception)));
            }
        }
    }
}
