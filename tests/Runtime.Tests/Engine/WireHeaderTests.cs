using System.Collections.Concurrent;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>What the client puts on the wire, seen at the HTTP layer against the real engine.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class WireHeaderTests(EngineFixture fixture)
{
    private sealed record SeenRequest(string Path, IReadOnlyDictionary<string, string> Headers);

    private sealed class Recorder
    {
        public ConcurrentQueue<SeenRequest> Requests { get; } = new();

        public HttpMessageHandler Wrap(HttpMessageHandler inner) => new Handler(this, inner);

        private sealed class Handler(Recorder recorder, HttpMessageHandler inner) : DelegatingHandler(inner)
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var headers = request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value), StringComparer.Ordinal);
                recorder.Requests.Enqueue(new SeenRequest(request.RequestUri!.AbsolutePath, headers));
                return base.SendAsync(request, cancellationToken);
            }
        }
    }

    [Fact]
    public async Task Control_plane_calls_carry_Modals_headers_after_a_lazy_AuthTokenGet()
    {
        var recorder = new Recorder();
        await using var client = EngineFixture.CreateClient(fixture.Engine.Host, wrapHandler: recorder.Wrap);

        await client.Apps.FromNameAsync(fixture.App.Name);
        await client.Apps.FromNameAsync(fixture.App.Name);

        var requests = recorder.Requests.ToList();
        Assert.Equal(
            ["/modal.client.ModalClient/AuthTokenGet", "/modal.client.ModalClient/AppGetOrCreate", "/modal.client.ModalClient/AppGetOrCreate"],
            requests.Select(r => r.Path));
        Assert.DoesNotContain("x-modal-auth-token", requests[0].Headers.Keys);
        foreach (var request in requests)
        {
            Assert.Equal(fixture.Engine.Token.Id, request.Headers["x-modal-token-id"]);
            Assert.Equal(fixture.Engine.Token.Secret, request.Headers["x-modal-token-secret"]);
            Assert.Equal("7", request.Headers["x-modal-client-type"]);
            Assert.Equal("1.0.0", request.Headers["x-modal-client-version"]);
            Assert.Equal("127.0.0.1", request.Headers["x-modal-host"]);
        }
        var calls = requests.Skip(1).ToList();
        Assert.All(calls, r => Assert.Equal(3, r.Headers["x-modal-auth-token"].Split('.').Length));
        Assert.All(calls, r => Assert.Equal("0", r.Headers["x-retry-attempt"]));
        Assert.NotEqual(calls[0].Headers["x-idempotency-key"], calls[1].Headers["x-idempotency-key"]);
    }

    [Fact]
    public async Task Router_calls_carry_only_the_bearer_token()
    {
        var recorder = new Recorder();
        await using var client = EngineFixture.CreateClient(fixture.Engine.Host, wrapHandler: recorder.Wrap);
        await using var sandbox = await fixture.CreateSandboxAsync(client: client);

        await sandbox.RunAsync(["true"]);

        var routerCalls = recorder.Requests.Where(r => r.Path.StartsWith("/modal.task_command_router.", StringComparison.Ordinal)).ToList();
        Assert.Contains(routerCalls, r => r.Path.EndsWith("/TaskExecStart", StringComparison.Ordinal));
        Assert.All(routerCalls, r =>
        {
            Assert.StartsWith("Bearer ", r.Headers["authorization"], StringComparison.Ordinal);
            Assert.DoesNotContain(r.Headers.Keys, k => k.StartsWith("x-modal-", StringComparison.Ordinal));
        });
    }
}
