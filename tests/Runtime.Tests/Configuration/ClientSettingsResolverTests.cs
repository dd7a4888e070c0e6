using TypedSandbox.Configuration;

namespace TypedSandbox.Runtime.Tests.Configuration;

public sealed class ClientSettingsResolverTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("tsb-config-").FullName;
    private readonly Dictionary<string, string> _env = new(StringComparer.Ordinal);

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private string ConfigPath => Path.Combine(_home, ".modal.toml");

    private void WriteConfig(string toml) => File.WriteAllText(ConfigPath, toml);

    private ClientSettings Resolve(SandboxClientOptions? options = null) =>
        ClientSettingsResolver.Resolve(options ?? new SandboxClientOptions(), name => _env.GetValueOrDefault(name), _home);

    [Fact]
    public void Nothing_configured_uses_Modal_cloud_and_no_credentials()
    {
        var settings = Resolve();

        Assert.Equal(new Uri(ClientSettings.DefaultServerUrl), settings.ServerUrl);
        Assert.Null(settings.TokenId);
        Assert.Null(settings.TokenSecret);
        Assert.Equal("", settings.Environment);
        Assert.True(settings.UseSandboxCreateV2);
        Assert.Equal(ConfigPath, settings.ConfigPath);
    }

    [Fact]
    public void Active_profile_of_the_file_is_used()
    {
        WriteConfig("""
            [other]
            server_url = "http://other:1"
            token_id = "other-id"

            [work]
            active = true
            server_url = "http://127.0.0.1:9000"
            token_id = "ak-file"
            token_secret = "as-file"
            environment = "dev"
            """);

        var settings = Resolve();

        Assert.Equal("work", settings.Profile);
        Assert.Equal(new Uri("http://127.0.0.1:9000"), settings.ServerUrl);
        Assert.Equal("ak-file", settings.TokenId);
        Assert.Equal("as-file", settings.TokenSecret);
        Assert.Equal("dev", settings.Environment);
    }

    [Fact]
    public void Environment_variables_beat_the_file_and_options_beat_both()
    {
        WriteConfig("""
            [default]
            server_url = "http://file:1"
            token_id = "file-id"
            token_secret = "file-secret"
            environment = "file-env"
            """);
        _env["MODAL_SERVER_URL"] = "http://env:2";
        _env["MODAL_TOKEN_ID"] = "env-id";
        _env["MODAL_ENVIRONMENT"] = "env-env";

        var fromEnv = Resolve();
        var fromOptions = Resolve(new SandboxClientOptions { ServerUrl = "http://options:3", TokenId = "options-id" });

        Assert.Equal(new Uri("http://env:2"), fromEnv.ServerUrl);
        Assert.Equal("env-id", fromEnv.TokenId);
        Assert.Equal("file-secret", fromEnv.TokenSecret);
        Assert.Equal("env-env", fromEnv.Environment);

        Assert.Equal(new Uri("http://options:3"), fromOptions.ServerUrl);
        Assert.Equal("options-id", fromOptions.TokenId);
        Assert.Equal("file-secret", fromOptions.TokenSecret);
        Assert.Equal("env-env", fromOptions.Environment);
    }

    [Fact]
    public void MODAL_PROFILE_overrides_the_active_flag_and_options_override_MODAL_PROFILE()
    {
        WriteConfig("""
            [a]
            active = true
            token_id = "a"
            [b]
            token_id = "b"
            [c]
            token_id = "c"
            """);
        _env["MODAL_PROFILE"] = "b";

        Assert.Equal("b", Resolve().TokenId);
        Assert.Equal("c", Resolve(new SandboxClientOptions { Profile = "c" }).TokenId);
    }

    [Fact]
    public void MODAL_CONFIG_PATH_and_the_option_choose_the_file()
    {
        var envFile = Path.Combine(_home, "env.toml");
        var optionFile = Path.Combine(_home, "option.toml");
        File.WriteAllText(envFile, "[default]\ntoken_id = \"from-env-file\"\n");
        File.WriteAllText(optionFile, "[default]\ntoken_id = \"from-option-file\"\n");
        _env["MODAL_CONFIG_PATH"] = envFile;

        Assert.Equal("from-env-file", Resolve().TokenId);
        Assert.Equal("from-option-file", Resolve(new SandboxClientOptions { ConfigPath = optionFile }).TokenId);
    }

    [Fact]
    public void Malformed_file_names_the_file_and_the_TOML_error()
    {
        WriteConfig("[default]\ntoken_id = \"unterminated\n");

        var error = Assert.Throws<SandboxConfigurationException>(() => Resolve());

        Assert.Contains(ConfigPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("not valid TOML", error.Message, StringComparison.Ordinal);
        Assert.IsType<Tomlyn.TomlException>(error.InnerException);
    }

    [Fact]
    public void A_top_level_setting_outside_a_profile_is_rejected()
    {
        WriteConfig("token_id = \"loose\"\n");

        var error = Assert.Throws<SandboxConfigurationException>(() => Resolve());

        Assert.Contains("'token_id'", error.Message, StringComparison.Ordinal);
        Assert.Contains(ConfigPath, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_named_profile_missing_from_the_file_is_an_error_listing_the_profiles()
    {
        WriteConfig("[alpha]\ntoken_id = \"x\"\n[beta]\ntoken_id = \"y\"\n");

        var error = Assert.Throws<SandboxConfigurationException>(() => Resolve(new SandboxClientOptions { Profile = "gamma" }));

        Assert.Contains("'gamma'", error.Message, StringComparison.Ordinal);
        Assert.Contains("alpha, beta", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_setting_of_the_wrong_type_is_reported_with_its_key()
    {
        WriteConfig("[default]\ntoken_id = 42\n");

        var error = Assert.Throws<SandboxConfigurationException>(() => Resolve());

        Assert.Contains("'token_id' must be a string", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://host")]
    [InlineData("not a url")]
    public void An_unusable_server_url_is_rejected(string url)
    {
        var error = Assert.Throws<SandboxConfigurationException>(() => Resolve(new SandboxClientOptions { ServerUrl = url }));

        Assert.Contains(url, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    [InlineData("1", true)]
    [InlineData("yes", true)]
    public void MODAL_SANDBOX_V2_follows_Modal_flag_rule(string value, bool expected)
    {
        WriteConfig("[default]\nsandbox_v2 = " + (expected ? "false" : "true") + "\n");
        _env["MODAL_SANDBOX_V2"] = value;

        Assert.Equal(expected, Resolve().UseSandboxCreateV2);
    }

    [Fact]
    public void Profile_sandbox_v2_turns_V1_creates_on_and_the_option_wins()
    {
        WriteConfig("[default]\nsandbox_v2 = false\n");

        Assert.False(Resolve().UseSandboxCreateV2);
        Assert.True(Resolve(new SandboxClientOptions { UseSandboxCreateV2 = true }).UseSandboxCreateV2);
    }

    [Fact]
    public void Throttle_wait_is_read_from_the_environment_in_seconds()
    {
        _env["MODAL_MAX_THROTTLE_WAIT"] = "2.5";

        Assert.Equal(TimeSpan.FromSeconds(2.5), Resolve().MaxThrottleWait);

        _env["MODAL_MAX_THROTTLE_WAIT"] = "soon";
        Assert.Throws<SandboxConfigurationException>(() => Resolve());
    }

    [Theory]
    [InlineData("http://localhost:8765", true)]
    [InlineData("http://127.0.0.1:8765", true)]
    [InlineData("http://[::1]:8765", true)]
    [InlineData("https://api.modal.com:443", false)]
    public void Loopback_servers_are_recognised(string url, bool loopback)
    {
        Assert.Equal(loopback, Resolve(new SandboxClientOptions { ServerUrl = url }).IsLoopbackServer);
    }
}
