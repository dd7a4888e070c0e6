using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using TypedSandbox.Server.Auth;
using TypedSandbox.Server.Hosting;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>Retries across an engine restart, and stream resumption across broken connections, against the real engine.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class ResilienceTests(EngineFixture fixture)
{
    [Fact]
    public async Task Stdout_resumes_after_broken_streams_without_losing_or_repeating_a_byte()
    {
        var faults = new StreamFaults("/modal.task_command_router.TaskCommandRouter/TaskExecStdioRead", failures: 4, afterBytes: 50_000);
        await using var client = EngineFixture.CreateClient(fixture.Engine.Host, wrapHandler: faults.Wrap);
        await using var sandbox = await fixture.CreateSandboxAsync(client: client);

        await using var process = await sandbox.ExecAsync(["seq", "1", "200000"]);
        var bytes = await process.Stdout.ReadAllBytesAsync();

        var expected = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(1, 200000).Select(i => i + "\n")));
        Assert.Equal(0, faults.Remaining);
        Assert.Equal(expected.Length, bytes.Length);
        Assert.True(expected.AsSpan().SequenceEqual(bytes));
        Assert.Equal(0, await process.WaitAsync());
    }

    [Fact]
    public async Task Entrypoint_output_resumes_after_broken_streams()
    {
        var faults = new StreamFaults("/modal.task_command_router.TaskCommandRouter/SandboxStdioReadV2", failures: 2, afterBytes: 20_000);
        await using var client = EngineFixture.CreateClient(fixture.Engine.Host, wrapHandler: faults.Wrap);
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Command = ["seq", "1", "50000"] }, client);

        var text = await sandbox.Stdout.ReadToEndAsync();

        Assert.Equal(0, faults.Remaining);
        Assert.Equal(string.Concat(Enumerable.Range(1, 50000).Select(i => i + "\n")), text);
    }

    [Fact]
    public async Task A_rejected_router_token_is_renewed_once_and_the_call_goes_through()
    {
        var rejecter = new RouterRejecter();
        await using var client = EngineFixture.CreateClient(fixture.Engine.Host, wrapHandler: rejecter.Wrap);
        await using var sandbox = await fixture.CreateSandboxAsync(client: client);
        var accessBefore = rejecter.AccessRequests;

        rejecter.RejectNext = true;
        var result = await sandbox.RunAsync(["echo", "after renewal"]);

        Assert.Equal("after renewal\n", result.Stdout);
        Assert.False(rejecter.RejectNext);
        Assert.Equal(accessBefore + 1, rejecter.AccessRequests);
    }

    [Fact]
    public async Task Unary_calls_retry_across_an_engine_restart()
    {
        var state = Path.Combine(Path.GetTempPath(), "tsb-restart-" + Guid.NewGuid().ToString("N")[..10]);
        var port = FreePort();
        var options = new EngineOptions { Port = port, StateDirectory = state };
        try
        {
            var first = await StartEngineAsync(options);
            using var retries = new RetrySignal();
            await using var client = EngineFixture.CreateClient(first, maxRetries: 30, loggerFactory: retries);
            App before;
            await using (first)
            {
                before = await client.Apps.FromNameAsync("survives-restart", createIfMissing: true);
            }

            // The engine is down: the lookup fails with UNAVAILABLE and keeps retrying until the engine is back.
            var lookup = client.Apps.FromNameAsync("survives-restart");
            await retries.FirstRetry.WaitAsync(TimeSpan.FromMinutes(1));
            await using var second = await StartEngineAsync(options);
            var after = await lookup;

            Assert.Equal(before.AppId, after.AppId);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Without_retries_a_down_engine_is_reported_as_unavailable()
    {
        var port = FreePort();
        await using var client = EngineFixture.CreateClient(new Uri($"http://127.0.0.1:{port}"), EngineToken.Generate(), maxRetries: 0);

        await Assert.ThrowsAsync<SandboxUnavailableException>(() => client.Apps.FromNameAsync("anything"));
    }

    private static Task<EngineHost> StartEngineAsync(EngineOptions options) =>
        EngineHost.StartAsync(options, logging => logging.SetMinimumLevel(LogLevel.Warning));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Answers the next router call with UNAUTHENTICATED (as a router does for an expired token) and counts
    /// the client's requests for new router access.</summary>
    private sealed class RouterRejecter
    {
        private int _accessRequests;
        private int _rejectNext;

        public int AccessRequests => Volatile.Read(ref _accessRequests);

        public bool RejectNext
        {
            get => Volatile.Read(ref _rejectNext) == 1;
            set => Volatile.Write(ref _rejectNext, value ? 1 : 0);
        }

        public HttpMessageHandler Wrap(HttpMessageHandler inner) => new Handler(this, inner);

        private sealed class Handler(RouterRejecter owner, HttpMessageHandler inner) : DelegatingHandler(inner)
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var path = request.RequestUri!.AbsolutePath;
                if (path.EndsWith("/SandboxGetCommandRouterAccess", StringComparison.Ordinal) || path.EndsWith("/TaskGetCommandRouterAccess", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref owner._accessRequests);
                }
                if (path.StartsWith("/modal.task_command_router.", StringComparison.Ordinal) && Interlocked.Exchange(ref owner._rejectNext, 0) == 1)
                {
                    // A trailers-only gRPC response: status in the headers, no body.
                    var rejected = new HttpResponseMessage(HttpStatusCode.OK) { Version = HttpVersion.Version20, RequestMessage = request, Content = new ByteArrayContent([]) };
                    rejected.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
                    rejected.Headers.Add("grpc-status", "16");
                    rejected.Headers.Add("grpc-message", "token expired");
                    return Task.FromResult(rejected);
                }
                return base.SendAsync(request, cancellationToken);
            }
        }
    }

    /// <summary>A logger factory that signals the client's first retry of a unary call.</summary>
    private sealed class RetrySignal : ILoggerFactory, ILoggerProvider, ILogger
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstRetry => _first.Task;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == TypedSandbox.Log.RetryingEventId)
            {
                _first.TrySetResult();
            }
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose() { }
    }

    /// <summary>Breaks the response streams of one RPC after some bytes, a given number of times (a flaky network).</summary>
    private sealed class StreamFaults(string path, int failures, int afterBytes)
    {
        private int _remaining = failures;

        private string Path { get; } = path;

        private int AfterBytes { get; } = afterBytes;

        public int Remaining => Volatile.Read(ref _remaining);

        public HttpMessageHandler Wrap(HttpMessageHandler inner) => new Handler(this, inner);

        private bool TakeFault()
        {
            int current;
            do
            {
                current = Volatile.Read(ref _remaining);
                if (current <= 0)
                {
                    return false;
                }
            }
            while (Interlocked.CompareExchange(ref _remaining, current - 1, current) != current);
            return true;
        }

        private sealed class Handler(StreamFaults faults, HttpMessageHandler inner) : DelegatingHandler(inner)
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (request.RequestUri?.AbsolutePath != faults.Path || !faults.TakeFault())
                {
                    return response;
                }
                var original = response.Content;
                var broken = new StreamContent(new BreakingStream(await original.ReadAsStreamAsync(cancellationToken), original, faults.AfterBytes));
                foreach (var header in original.Headers)
                {
                    broken.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
                response.Content = broken;
                return response;
            }
        }

        private sealed class BreakingStream(Stream inner, HttpContent owner, int limit) : Stream
        {
            private int _passed;

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                if (_passed >= limit)
                {
                    throw new IOException("Injected connection failure.");
                }
                var count = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, limit - _passed)], cancellationToken);
                _passed += count;
                return count;
            }

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    inner.Dispose();
                    owner.Dispose();
                }
                base.Dispose(disposing);
            }

            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
