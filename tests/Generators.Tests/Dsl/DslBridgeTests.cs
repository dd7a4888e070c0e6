using TypedSandbox.Dsl;

namespace TypedSandbox.Generators.Tests.Dsl;

/// <summary>The runtime side of the DSL: what generated code calls, checked with the same rule book as the analyzers.</summary>
public class DslBridgeTests
{
    [Fact]
    public void Render_fills_placeholders_inside_single_arguments()
    {
        var command = new CommandDefinition(["pytest", "-q", "{path}", "--maxfail={count}", "{verbose}", "{ratio}"], ["path", "count", "verbose", "ratio"]);

        var args = command.Render(["tests dir; rm -rf /", 3, true, 1.5]);

        Assert.Equal(["pytest", "-q", "tests dir; rm -rf /", "--maxfail=3", "true", "1.5"], args);
    }

    [Fact]
    public void An_entrypoint_treats_double_braces_as_a_command_does_and_rejects_placeholders()
    {
        var command = new CommandDefinition(["echo", "{{x}}"], Array.Empty<string>());
        var entrypoint = new SandboxDefinition { Entrypoint = ["echo", "{{x}}"] };

        Assert.Equal(["echo", "{x}"], command.Render([]));
        Assert.Equal(["echo", "{x}"], entrypoint.RenderEntrypoint());
        Assert.Contains("no parameters", Assert.Throws<InvalidArgumentException>(() => new SandboxDefinition { Entrypoint = ["echo", "{name}"] }.Validate()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_leaves_out_an_argument_whose_value_is_null()
    {
        var command = new CommandDefinition(["pytest", "{path}", "--maxfail={max}"], ["path", "max"]);

        Assert.Equal(["pytest", "tests"], command.Render(["tests", null]));
        Assert.Equal(["pytest", "--maxfail=3"], command.Render([null, 3]));
    }

    [Fact]
    public void Render_expands_a_whole_argument_collection_and_rejects_one_inside_a_longer_argument()
    {
        Assert.Equal(["pytest", "a.py", "b c.py"], new CommandDefinition(["pytest", "{files}"], ["files"]).Render([new List<string> { "a.py", "b c.py" }]));
        Assert.Throws<InvalidArgumentException>(() => new CommandDefinition(["pytest", "-f{files}"], ["files"]).Render([new[] { "a" }]));
    }

    [Fact]
    public void Options_are_appended_in_parameter_order()
    {
        var command = new CommandDefinition(["pytest"], [CommandParameter.Option("filter", "-k"), CommandParameter.Option("verbose", "-v"), CommandParameter.Option("max", "--maxfail="), CommandParameter.Option("marks", "-m")]);

        Assert.Equal(["pytest"], command.Render([null, false, null, null]));
        Assert.Equal(["pytest", "-k", "not slow", "-v", "--maxfail=3", "-m", "a", "-m", "b"], command.Render(["not slow", true, 3, new[] { "a", "b" }]));
    }

    [Fact]
    public void Values_are_formatted_with_the_invariant_culture_and_dates_round_trip()
    {
        // A culture whose decimal separator is ',' (built by hand: the test host may run in globalization-invariant mode).
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        var comma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        System.Globalization.CultureInfo.CurrentCulture = comma;
        try
        {
            var when = new DateTime(2026, 12, 5, 23, 30, 0, DateTimeKind.Utc);
            Assert.Equal("1.5", CommandDefinition.Format(1.5));
            Assert.Equal("2026-12-05T23:30:00.0000000Z", CommandDefinition.Format(when));
            Assert.Equal("01:02:03", CommandDefinition.Format(new TimeSpan(1, 2, 3)));
            Assert.Equal("Friday", CommandDefinition.Format(DayOfWeek.Friday));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Render_requires_one_value_per_parameter() =>
        Assert.Throws<ArgumentException>(() => new CommandDefinition(["ls", "{path}"], ["path"]).Render([]));

    [Fact]
    public void A_placeholder_without_a_parameter_is_rejected_at_run_time_too()
    {
        var error = Assert.Throws<InvalidArgumentException>(() => new CommandDefinition(["ls", "{paht}"], ["path"]));
        Assert.Equal("Placeholder '{paht}' does not name a parameter; use one of: {path}", error.Message);
    }

    [Fact]
    public void A_malformed_command_line_is_rejected_at_run_time_too() =>
        Assert.Contains("unclosed '{'", Assert.Throws<InvalidArgumentException>(() => new CommandDefinition(["ls", "{path"], ["path"])).Message, StringComparison.Ordinal);

    [Fact]
    public void Validate_accepts_the_card_example()
    {
        var definition = new SandboxDefinition
        {
            App = "my-app",
            Timeout = "10m",
            Image = new ImageDefinition { Reference = "python:3.13-slim" },
            Volumes = [new VolumeMount("/data", "my-volume")],
            Secrets = ["my-secret"],
        };

        definition.Validate();
    }

    [Theory]
    [InlineData("Sandbox name 'my name' contains ' '; use letters, digits, '-', '_' and '.' (at most 63 characters)")]
    public void Validate_reports_the_analyzer_message(string expected)
    {
        var definition = new SandboxDefinition { Name = "my name" };
        Assert.Equal(expected, Assert.Throws<InvalidArgumentException>(definition.Validate).Message);
    }

    [Fact]
    public void Validate_applies_every_rule_of_the_rule_book()
    {
        SandboxDefinition[] invalid =
        [
            new() { App = "my app" },
            new() { Timeout = "25h" },
            new() { Timeout = "10m", IdleTimeout = "20m" },
            new() { IdleTimeout = "10m" },
            new() { Workdir = "app" },
            new() { Cpu = -1 },
            new() { MemoryMb = -1 },
            new() { EncryptedPorts = [70000] },
            new() { BlockNetwork = true, CidrAllowlist = ["10.0.0.0/8"] },
            new() { Image = new ImageDefinition { Reference = "Python:3 slim" } },
            new() { Image = new ImageDefinition { Env = ["1X=2"] } },
            new() { Image = new ImageDefinition { Workdir = "src" } },
            new() { Volumes = [new VolumeMount("data", "v")] },
            new() { Volumes = [new VolumeMount("/data", "v"), new VolumeMount("/data", "w")] },
            new() { Volumes = [new VolumeMount("/data", "bad name")] },
            new() { Secrets = ["bad secret"] },
            new() { SecretsFromEnvironment = [new EnvironmentSecret(["BAD-KEY"])] },
            new() { Tags = new Dictionary<string, string> { ["bad key"] = "v" } },
            new() { Tags = new Dictionary<string, string> { ["k"] = "line\nbreak" } },
        ];

        Assert.All(invalid, definition => Assert.Throws<InvalidArgumentException>(definition.Validate));
    }

    [Fact]
    public async Task A_required_host_variable_that_is_missing_fails_before_any_call()
    {
        // Nothing listens on port 1: reaching the server would fail differently.
        await using var client = new SandboxClient(new SandboxClientOptions
        {
            ServerUrl = "http://127.0.0.1:1",
            TokenId = "ak-test",
            TokenSecret = "as-test",
            ConfigPath = Path.Combine(AppContext.BaseDirectory, "no-such-modal.toml"),
            MaxRetries = 0,
        });
        var definition = new SandboxDefinition { SecretsFromEnvironment = [new EnvironmentSecret(["TSB_TEST_NEVER_SET_VARIABLE"])] };

        var error = await Assert.ThrowsAsync<SandboxConfigurationException>(() => definition.CreateSandboxAsync(client, CancellationToken.None));

        Assert.Contains("'TSB_TEST_NEVER_SET_VARIABLE' is not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Command_options_follow_the_rule_book()
    {
        var options = new CommandDefinition(["true"], Array.Empty<string>()) { Timeout = "1m30s", Workdir = "/src" }.Options;
        Assert.Equal(TimeSpan.FromSeconds(90), options.Timeout);
        Assert.Equal("/src", options.Workdir);
        Assert.Throws<InvalidArgumentException>(() => new CommandDefinition(["true"], Array.Empty<string>()) { Timeout = "soon" }.Options);
        Assert.Throws<InvalidArgumentException>(() => new CommandDefinition(["true"], Array.Empty<string>()) { Timeout = "0s" }.Options);
        Assert.Throws<InvalidArgumentException>(() => new CommandDefinition(["true"], Array.Empty<string>()) { Workdir = "src" }.Options);
    }
}
