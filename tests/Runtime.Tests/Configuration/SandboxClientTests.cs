namespace TypedSandbox.Runtime.Tests.Configuration;

public sealed class SandboxClientTests
{
    private static SandboxClientOptions Local(string home) => new()
    {
        ServerUrl = "http://127.0.0.1:1",
        TokenId = "id",
        TokenSecret = "secret",
        Environment = "main",
        ConfigPath = Path.Combine(home, "absent.toml"),
    };

    [Fact]
    public async Task Options_are_visible_on_the_client()
    {
        var home = Directory.CreateTempSubdirectory("tsb-client-");
        try
        {
            await using var client = new SandboxClient(Local(home.FullName));

            Assert.Equal(new Uri("http://127.0.0.1:1"), client.ServerUrl);
            Assert.Equal("main", client.Environment);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Fact]
    public void Negative_retries_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SandboxClient(Local(Path.GetTempPath()) with { MaxRetries = -1 }));
    }

    [Fact]
    public async Task Default_can_be_replaced_and_returns_what_was_set()
    {
        var home = Directory.CreateTempSubdirectory("tsb-client-");
        var previous = SandboxClient.Default;
        await using var client = new SandboxClient(Local(home.FullName));
        try
        {
            SandboxClient.Default = client;

            Assert.Same(client, SandboxClient.Default);
            Assert.Throws<ArgumentNullException>(() => SandboxClient.Default = null!);
        }
        finally
        {
            // The test's client is disposed below: the process-wide default goes back to what it was, never left disposed.
            SandboxClient.Default = previous;
            home.Delete(recursive: true);
        }

        Assert.Same(previous, SandboxClient.Default);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_disposed_default_is_not_handed_out_again(bool disposeAsync)
    {
        var home = Directory.CreateTempSubdirectory("tsb-client-");
        try
        {
            var disposed = new SandboxClient(Local(home.FullName));
            var replacement = new SandboxClient(Local(home.FullName));
            var other = new SandboxClient(Local(home.FullName));
            SandboxClient.Default = disposed;

            await other.DisposeAsync();
            Assert.Same(disposed, SandboxClient.Default);
            if (disposeAsync)
            {
                await disposed.DisposeAsync();
            }
            else
            {
                disposed.Dispose();
            }
            var next = SandboxClient.Default;
            SandboxClient.Default = replacement;

            Assert.NotSame(disposed, next);
            await Assert.ThrowsAsync<ObjectDisposedException>(() => disposed.PingAsync());
            await next.DisposeAsync();
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Calls_on_a_disposed_client_fail_clearly()
    {
        var home = Directory.CreateTempSubdirectory("tsb-client-");
        try
        {
            var client = new SandboxClient(Local(home.FullName));
            await client.DisposeAsync();

            await Assert.ThrowsAsync<ObjectDisposedException>(() => client.Apps.FromNameAsync("x"));
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
