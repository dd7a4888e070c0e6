using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedSandbox.Hosting;
using TypedSandbox.Runtime.Tests.Engine;
using TypedSandbox.Testing;

namespace TypedSandbox.Runtime.Tests.AppModel;

/// <summary>A [Sandbox] class an application resolves through dependency injection (AddSandbox).</summary>
[Sandbox(App = "runtime-tests", Timeout = "5m")]
[SandboxImage("busybox:latest")]
internal sealed partial class Greeter
{
    [Command("echo", "hello,", "{name}")]
    public partial Task<string> GreetAsync(string name);
}

/// <summary>AddTypedSandbox in a generic host against the real engine: configuration, logging, health, disposal, [Sandbox] factories.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class HostingTests(EngineFixture fixture)
{
    /// <summary>A path with no Modal profile, so the machine's ~/.modal.toml never leaks into a test.</summary>
    private static readonly string NoProfile = Path.Combine(Path.GetTempPath(), "typedsandbox-no-profile-" + Guid.NewGuid().ToString("N") + ".toml");

    private Dictionary<string, string?> ModalProfileKeys() => new()
    {
        ["TypedSandbox:server_url"] = fixture.Engine.Url.ToString(),
        ["TypedSandbox:token_id"] = fixture.Engine.Token.Id,
        ["TypedSandbox:token_secret"] = fixture.Engine.Token.Secret,
        ["TypedSandbox:config_path"] = NoProfile,
    };

    private static HostApplicationBuilder NewHost(IDictionary<string, string?> configuration)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration);
        return builder;
    }

    [Fact]
    public async Task The_client_is_a_singleton_bound_to_the_TypedSandbox_section_logging_through_the_host_and_disposed_with_it()
    {
        var logs = new CapturedLogs();
        var builder = NewHost(ModalProfileKeys());
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddTypedSandbox();
        SandboxClient client;
        using (var host = builder.Build())
        {
            await host.StartAsync();
            client = host.Services.GetRequiredService<SandboxClient>();
            Assert.Same(client, host.Services.GetRequiredService<SandboxClient>());
            Assert.Equal(fixture.Engine.Url, client.ServerUrl);

            var app = await client.Apps.FromNameAsync("runtime-tests", createIfMissing: true);
            await using (var sandbox = await client.Sandboxes.CreateAsync(app, client.Images.FromRegistry("busybox:latest")))
            {
                Assert.Equal("up\n", (await sandbox.RunAsync(["echo", "up"])).Stdout);
                Assert.Contains(logs.Entries, e => e.Contains($"Created sandbox {sandbox.SandboxId}", StringComparison.Ordinal));
            }
            await host.StopAsync();
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.PingAsync());
    }

    [Fact]
    public void Every_profile_key_of_the_section_reaches_the_options_and_option_names_work_too()
    {
        var options = new SandboxClientOptions();
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedSandbox:server_url"] = "http://127.0.0.1:9",
            ["TypedSandbox:token_id"] = "ak-id",
            ["TypedSandbox:token_secret"] = "as-secret",
            ["TypedSandbox:environment"] = "staging",
            ["TypedSandbox:Profile"] = "work",
            ["TypedSandbox:config_path"] = "/etc/modal.toml",
            ["TypedSandbox:image_builder_version"] = "2024.10",
            ["TypedSandbox:sandbox_v2"] = "false",
            ["TypedSandbox:MaxRetries"] = "5",
            ["TypedSandbox:max_throttle_wait"] = "2.5",
        }).Build().GetSection(SandboxClientConfiguration.SectionName);

        SandboxClientConfiguration.Apply(section, options);

        Assert.Equal(new SandboxClientOptions
        {
            ServerUrl = "http://127.0.0.1:9",
            TokenId = "ak-id",
            TokenSecret = "as-secret",
            Environment = "staging",
            Profile = "work",
            ConfigPath = "/etc/modal.toml",
            ImageBuilderVersion = "2024.10",
            UseSandboxCreateV2 = false,
            MaxRetries = 5,
            MaxThrottleWait = TimeSpan.FromSeconds(2.5),
        }, options);
    }

    [Fact]
    public void A_malformed_number_names_its_key()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["TypedSandbox:max_retries"] = "many" })
            .Build().GetSection(SandboxClientConfiguration.SectionName);

        var error = Assert.Throws<FormatException>(() => SandboxClientConfiguration.Apply(section, new SandboxClientOptions()));

        Assert.Contains("TypedSandbox:max_retries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Modal_profile_file_keeps_working_underneath_the_section()
    {
        // Only the profile's path is configured: URL and token pair come from the engine's modal.toml.
        var builder = NewHost(new Dictionary<string, string?> { ["TypedSandbox:config_path"] = fixture.Engine.ConfigPath });
        builder.Services.AddTypedSandbox();
        using var host = builder.Build();
        var client = host.Services.GetRequiredService<SandboxClient>();

        await client.PingAsync();

        Assert.Equal(fixture.Engine.Url, client.ServerUrl);
    }

    [Fact]
    public async Task The_configure_action_wins_over_the_section()
    {
        var keys = ModalProfileKeys();
        keys["TypedSandbox:token_secret"] = "as-wrong";
        var builder = NewHost(keys);
        builder.Services.AddTypedSandbox(options => options.TokenSecret = fixture.Engine.Token.Secret);
        using var host = builder.Build();

        await host.Services.GetRequiredService<SandboxClient>().PingAsync();
    }

    [Fact]
    public async Task The_health_check_is_healthy_when_the_engine_answers_and_unhealthy_when_it_refuses_the_token()
    {
        var good = NewHost(ModalProfileKeys());
        good.Services.AddTypedSandbox();
        good.Services.AddHealthChecks().AddTypedSandbox();
        using var goodHost = good.Build();
        var healthy = await goodHost.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        var keys = ModalProfileKeys();
        keys["TypedSandbox:token_secret"] = "as-wrong";
        var bad = NewHost(keys);
        bad.Services.AddTypedSandbox();
        bad.Services.AddHealthChecks().AddTypedSandbox();
        using var badHost = bad.Build();
        var unhealthy = await badHost.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal(HealthStatus.Healthy, healthy.Entries["typedsandbox"].Status);
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.IsType<SandboxAuthenticationException>(unhealthy.Entries["typedsandbox"].Exception);
        Assert.DoesNotContain("as-wrong", unhealthy.Entries["typedsandbox"].Description ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Sandbox_class_is_created_through_its_registered_factory_with_the_host_client()
    {
        var builder = NewHost(ModalProfileKeys());
        builder.Services.AddTypedSandbox().AddSandbox<Greeter>();
        using var host = builder.Build();
        var factory = host.Services.GetRequiredService<SandboxFactory<Greeter>>();

        await using var greeter = await factory.CreateAsync();

        Assert.Equal("hello, host\n", await greeter.GreetAsync("host"));
        Assert.Equal(greeter.Sandbox.SandboxId, (await host.Services.GetRequiredService<SandboxClient>().Sandboxes.FromIdAsync(greeter.Sandbox.SandboxId)).SandboxId);
    }

    [Fact]
    public async Task A_factory_can_also_be_registered_with_a_create_function()
    {
        var builder = NewHost(ModalProfileKeys());
        builder.Services.AddTypedSandbox().AddSandbox<Greeter>(Greeter.CreateAsync);
        using var host = builder.Build();
        var factory = host.Services.GetRequiredService<SandboxFactory<Greeter>>();

        await using var greeter = await factory.CreateAsync();

        Assert.Equal("hello, host\n", await greeter.GreetAsync("host"));
    }
}
