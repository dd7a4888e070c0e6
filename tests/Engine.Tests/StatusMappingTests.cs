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

    public static TheoryData<Exception, StatusCode> CoreFailures() => new()
    {
        { new SandboxEndedException(), StatusCode.FailedPrecondition },
        { new ExecStartException("no such file"), StatusCode.FailedPrecondition },
        { new ContainerStartException("crun failed"), StatusCode.Unavailable },
        { new HostNotReadyException(["crun is missing"]), StatusCode.Unavailable },
        { new SandboxConnectException("connection refused"), StatusCode.Unavailable },
        { new ImageNotFoundException("library/nothing", "no such image"), StatusCode.NotFound },
        { new InvalidImageDefinitionException("bad Dockerfile"), StatusCode.InvalidArgument },
        { new InvalidImageReferenceException("UPPER", "uppercase"), StatusCode.InvalidArgument },
        { new ImageRegistryUnauthorizedException("private/image", "denied"), StatusCode.PermissionDenied },
        { new ImageRegistryUnavailableException("registry down"), StatusCode.Unavailable },
        { new ImageIntegrityException("digest mismatch"), StatusCode.DataLoss },
        { new ImageBuildFailedException("RUN false", 1, [], "RUN false failed"), StatusCode.FailedPrecondition },
    };

    [Theory]
    [MemberData(nameof(CoreFailures))]
    public void The_cores_own_failures_are_engine_kinds_mapped_with_their_message(Exception failure, StatusCode expected)
    {
        Assert.IsAssignableFrom<EngineException>(failure);

        var status = Map(failure).Status;

        Assert.Equal(expected, status.StatusCode);
        Assert.Equal(failure.Message, status.Detail);
        Assert.Empty(_log.Errors);
    }

    [Fact]
    public void Their_messages_are_the_ones_users_saw_before()
    {
        Assert.Equal("The sandbox has ended.", Map(new SandboxEndedException()).Status.Detail);
        Assert.Equal("Invalid image reference 'UPPER': uppercase.", Map(new InvalidImageReferenceException("UPPER", "uppercase")).Status.Detail);
        Assert.StartsWith("The host cannot run sandboxes:", Map(new HostNotReadyException(["crun is missing"])).Status.Detail, StringComparison.Ordinal);
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
