using Grpc.Core;
using TypedSandbox.Errors;

namespace TypedSandbox.Runtime.Tests.Errors;

public sealed class RpcErrorMapperTests
{
    [Theory]
    [InlineData(StatusCode.NotFound, typeof(NotFoundException))]
    [InlineData(StatusCode.AlreadyExists, typeof(AlreadyExistsException))]
    [InlineData(StatusCode.InvalidArgument, typeof(InvalidArgumentException))]
    [InlineData(StatusCode.FailedPrecondition, typeof(ConflictException))]
    [InlineData(StatusCode.ResourceExhausted, typeof(ResourceExhaustedException))]
    [InlineData(StatusCode.DeadlineExceeded, typeof(SandboxTimeoutException))]
    [InlineData(StatusCode.Unauthenticated, typeof(SandboxAuthenticationException))]
    [InlineData(StatusCode.PermissionDenied, typeof(SandboxAuthenticationException))]
    [InlineData(StatusCode.Unavailable, typeof(SandboxUnavailableException))]
    [InlineData(StatusCode.Unimplemented, typeof(OperationNotSupportedException))]
    [InlineData(StatusCode.Internal, typeof(SandboxException))]
    public void Each_status_maps_to_one_exception_type(StatusCode code, Type expected)
    {
        var original = new RpcException(new Status(code, "details from the server"));

        var mapped = RpcErrorMapper.Map(original, "SandboxCreate");

        Assert.IsType(expected, mapped);
        Assert.Same(original, mapped.InnerException);
        Assert.Contains("details from the server", mapped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_detail_passes_through_unchanged()
    {
        var mapped = RpcErrorMapper.Map(new RpcException(new Status(StatusCode.AlreadyExists, "Sandbox named 'x' already exists")), "SandboxCreateV2");

        Assert.Equal("Sandbox named 'x' already exists", mapped.Message);
    }

    [Fact]
    public void NotFound_uses_the_callers_message_when_given()
    {
        var mapped = RpcErrorMapper.Map(new RpcException(new Status(StatusCode.NotFound, "no such app")), "AppGetOrCreate", "App 'demo' not found");

        Assert.Equal("App 'demo' not found", mapped.Message);
    }

    [Fact]
    public void Missing_detail_names_the_method_and_status()
    {
        var mapped = RpcErrorMapper.Map(new RpcException(new Status(StatusCode.Internal, "")), "SandboxWait");

        Assert.Contains("SandboxWait", mapped.Message, StringComparison.Ordinal);
        Assert.Contains("Internal", mapped.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StatusCode.NotFound, true)]
    [InlineData(StatusCode.Unavailable, true)]
    [InlineData(StatusCode.DeadlineExceeded, true)]
    [InlineData(StatusCode.Cancelled, true)]
    [InlineData(StatusCode.Unknown, true)]
    [InlineData(StatusCode.Internal, false)]
    [InlineData(StatusCode.InvalidArgument, false)]
    [InlineData(StatusCode.FailedPrecondition, false)]
    [InlineData(StatusCode.PermissionDenied, false)]
    public void Sandbox_gone_is_read_from_the_mapped_failure(StatusCode code, bool gone)
    {
        var mapped = RpcErrorMapper.Map(new RpcException(new Status(code, "x")), "TaskExecStdinWriteStream");

        Assert.Equal(gone, RpcErrorMapper.MeansSandboxGone(mapped));
    }

    [Fact]
    public void Client_side_failures_are_not_taken_for_a_gone_sandbox()
    {
        Assert.False(RpcErrorMapper.MeansSandboxGone(new InvalidArgumentException("bad path")));
        Assert.False(RpcErrorMapper.MeansSandboxGone(new ProtocolException("not JSON")));
        Assert.False(RpcErrorMapper.MeansSandboxGone(new SandboxException("other", new InvalidOperationException())));
    }

    [Theory]
    [InlineData(StatusCode.InvalidArgument)]
    [InlineData(StatusCode.Internal)]
    [InlineData(StatusCode.Unknown)]
    [InlineData(StatusCode.DataLoss)]
    public void No_status_is_mapped_to_a_protocol_error(StatusCode code)
    {
        // A ProtocolException is the client's verdict on a response it received, never a status the server sent.
        Assert.IsNotType<ProtocolException>(RpcErrorMapper.Map(new RpcException(new Status(code, "x")), "SandboxWait"));
    }

    [Fact]
    public void Terminated_is_a_conflict()
    {
        Assert.IsAssignableFrom<ConflictException>(new SandboxTerminatedException("gone"));
    }

    [Fact]
    public void Exec_failure_message_quotes_stderr()
    {
        var error = new ExecFailedException(new ExecResult(3, "", "boom\n"));

        Assert.Equal("The process exited with code 3: boom", error.Message);
        Assert.Equal(3, error.Result!.ExitCode);
        Assert.Throws<ExecFailedException>(() => new ExecResult(1, "", "").EnsureSuccess());
        Assert.Equal(0, new ExecResult(0, "ok", "").EnsureSuccess().ExitCode);
    }
}
