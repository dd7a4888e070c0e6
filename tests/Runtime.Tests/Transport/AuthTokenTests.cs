using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Transport;

namespace TypedSandbox.Runtime.Tests.Transport;

public sealed class AuthTokenTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    internal static string MakeJwt(DateTimeOffset? expiry)
    {
        static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var payload = expiry is { } exp ? $"{{\"exp\":{exp.ToUnixTimeSeconds()}}}" : "{}";
        return $"{Encode("{\"alg\":\"HS256\"}")}.{Encode(payload)}.c2ln";
    }

    [Fact]
    public void Expiry_is_read_from_the_payload()
    {
        Assert.Equal(Start.AddHours(1), Jwt.ReadExpiry(MakeJwt(Start.AddHours(1))));
        Assert.Null(Jwt.ReadExpiry(MakeJwt(null)));
        Assert.Null(Jwt.ReadExpiry("not-a-jwt"));
        Assert.Null(Jwt.ReadExpiry("a.!!!.c"));
        Assert.Null(Jwt.ReadExpiry(""));
    }

    [Fact]
    public async Task Token_is_fetched_lazily_once_and_refreshed_after_half_its_lifetime()
    {
        var clock = new ManualClock(Start);
        var fetches = 0;
        using var cache = new AuthTokenCache(_ =>
        {
            fetches++;
            return Task.FromResult(MakeJwt(clock.GetUtcNow().AddMinutes(20)));
        }, clock, NullLogger.Instance);

        Assert.Equal(0, fetches);
        var first = await cache.GetAsync(CancellationToken.None);
        clock.Now = Start.AddMinutes(9);
        var cached = await cache.GetAsync(CancellationToken.None);
        Assert.Equal(1, fetches);
        Assert.Same(first, cached);

        clock.Now = Start.AddMinutes(11);
        await cache.GetAsync(CancellationToken.None);
        Assert.Equal(2, fetches);
    }

    [Fact]
    public async Task A_failed_refresh_keeps_using_the_unexpired_token()
    {
        var clock = new ManualClock(Start);
        var fail = false;
        using var cache = new AuthTokenCache(_ => fail
            ? throw new SandboxUnavailableException("down")
            : Task.FromResult(MakeJwt(Start.AddMinutes(20))), clock, NullLogger.Instance);
        var token = await cache.GetAsync(CancellationToken.None);

        fail = true;
        clock.Now = Start.AddMinutes(15);
        Assert.Equal(token, await cache.GetAsync(CancellationToken.None));

        clock.Now = Start.AddMinutes(21);
        await Assert.ThrowsAsync<SandboxUnavailableException>(() => cache.GetAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Rejected_credentials_surface_even_with_a_cached_token()
    {
        var clock = new ManualClock(Start);
        var reject = false;
        using var cache = new AuthTokenCache(_ => reject
            ? throw new SandboxAuthenticationException("bad token")
            : Task.FromResult(MakeJwt(Start.AddMinutes(20))), clock, NullLogger.Instance);
        await cache.GetAsync(CancellationToken.None);

        reject = true;
        clock.Now = Start.AddMinutes(15);
        await Assert.ThrowsAsync<SandboxAuthenticationException>(() => cache.GetAsync(CancellationToken.None));
    }

    [Fact]
    public async Task An_empty_token_is_an_error()
    {
        using var cache = new AuthTokenCache(_ => Task.FromResult(""), new ManualClock(Start), NullLogger.Instance);

        await Assert.ThrowsAsync<ProtocolException>(() => cache.GetAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("https://127.0.0.1:5000", true, "http://127.0.0.1:5000/")]
    [InlineData("https://router.example", false, "https://router.example/")]
    [InlineData("https://router.example:8443", false, "https://router.example:8443/")]
    public void Router_is_dialled_without_TLS_only_for_a_loopback_control_plane(string url, bool loopback, string expected)
    {
        Assert.Equal(new Uri(expected), GrpcChannels.CommandRouterAddress(url, loopback));
    }

    [Fact]
    public void Router_url_must_be_https()
    {
        var error = Assert.Throws<ProtocolException>(() => GrpcChannels.CommandRouterAddress("http://127.0.0.1:5000", true));

        Assert.Equal("Task router URL must be https, got: http://127.0.0.1:5000", error.Message);
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
