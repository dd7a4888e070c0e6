using System.Net;
using System.Net.Http.Headers;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>Sandbox identity through the client against the real engine: names set later, readiness probes, connect tokens.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class IdentityTests(EngineFixture fixture)
{
    [Fact]
    public async Task SetNameAsync_names_a_running_sandbox_once_and_the_name_is_held_for_it()
    {
        var name = "later-" + Guid.NewGuid().ToString("N")[..8];
        await using var first = await fixture.CreateSandboxAsync();
        await using var second = await fixture.CreateSandboxAsync();

        await first.SetNameAsync(name);

        Assert.Equal(first.SandboxId, (await fixture.Client.Sandboxes.FromNameAsync(fixture.App.Name, name)).SandboxId);
        await Assert.ThrowsAsync<AlreadyExistsException>(() => second.SetNameAsync(name));
        await Assert.ThrowsAsync<ConflictException>(() => first.SetNameAsync(name + "-again"));
    }

    [Fact]
    public async Task WaitUntilReadyAsync_waits_for_an_exec_probe_and_times_out_on_one_that_never_passes()
    {
        await using var ready = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            Command = ["sh", "-c", "sleep 1; touch /tmp/ready; sleep 600"],
            ReadinessProbe = ReadinessProbe.Exec(["test", "-f", "/tmp/ready"], TimeSpan.FromMilliseconds(50)),
        });
        await using var never = await fixture.CreateSandboxAsync(new SandboxCreateOptions { ReadinessProbe = ReadinessProbe.Exec(["false"]) });

        await ready.WaitUntilReadyAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(0, (await ready.RunAsync(["test", "-f", "/tmp/ready"])).ExitCode);
        await Assert.ThrowsAsync<SandboxTimeoutException>(() => never.WaitUntilReadyAsync(TimeSpan.FromSeconds(1.5)));
    }

    [Fact]
    public async Task A_connect_token_reaches_the_sandbox_port_and_a_request_without_it_is_refused()
    {
        await using var sandbox = await fixture.CreateSandboxAsync(new SandboxCreateOptions
        {
            // busybox httpd serves every connection; an `nc -l` loop had a gap after each one (the readiness probe's
            // own connection among them) in which a request was refused and reset.
            Command = ["sh", "-c", "mkdir -p /www && printf hello > /www/index.html && exec httpd -f -p 8080 -h /www"],
            ReadinessProbe = ReadinessProbe.Tcp(8080),
        });
        await sandbox.WaitUntilReadyAsync(TimeSpan.FromMinutes(1));

        var credentials = await sandbox.CreateConnectTokenAsync(userMetadata: "user-7");
        using var http = new HttpClient();
        using var authorized = new HttpRequestMessage(HttpMethod.Get, credentials.Url);
        authorized.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credentials.Token);
        using var ok = await http.SendAsync(authorized);
        using var missing = await http.GetAsync(credentials.Url);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("hello", await ok.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
    }

    [Fact]
    public async Task MakeDirectoryAsync_on_an_existing_file_is_PathAlreadyExists_and_under_a_file_is_NotADirectory()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        var fs = sandbox.Filesystem;
        await fs.WriteTextAsync("/tmp/f.txt", "x");

        var onFile = await Assert.ThrowsAsync<SandboxFilesystemException>(() => fs.MakeDirectoryAsync("/tmp/f.txt", parents: true));
        var underFile = await Assert.ThrowsAsync<SandboxFilesystemException>(() => fs.MakeDirectoryAsync("/tmp/f.txt/sub", parents: true));

        Assert.Equal(SandboxFilesystemErrorKind.AlreadyExists, onFile.Kind);
        Assert.Equal(SandboxFilesystemErrorKind.NotADirectory, underFile.Kind);
    }

    [Fact]
    public async Task Unknown_cloud_and_region_names_are_refused_before_a_request_is_sent()
    {
        var cloud = await Assert.ThrowsAsync<InvalidArgumentException>(() => fixture.CreateSandboxAsync(new SandboxCreateOptions { Cloud = "moon" }));
        var region = await Assert.ThrowsAsync<InvalidArgumentException>(() => fixture.CreateSandboxAsync(new SandboxCreateOptions { Regions = ["moon-base"] }));

        Assert.Contains("Unknown cloud provider 'moon'", cloud.Message, StringComparison.Ordinal);
        Assert.Contains("Unknown region 'moon-base'", region.Message, StringComparison.Ordinal);
        await using var placed = await fixture.CreateSandboxAsync(new SandboxCreateOptions { Cloud = "gcp", Regions = ["us-central1"] });
        Assert.Equal(0, (await placed.RunAsync(["true"])).ExitCode);
    }
}
