using System.Runtime.Versioning;
using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Server.Auth;
using TypedSandbox.Server.Hosting;

namespace TypedSandbox.Server.Tests.Hosting;

/// <summary>The engine's token pair: generated once and kept, or the operator's; and the profile it hands to clients.</summary>
[SupportedOSPlatform("linux")]
public sealed class EngineCredentialsTests : IDisposable
{
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("tsb-credentials-");

    [Fact]
    public void The_generated_pair_is_modal_shaped_kept_owner_only_and_reused()
    {
        var options = new EngineOptions { StateDirectory = _state.FullName };

        var first = EngineCredentials.Resolve(options, NullLogger.Instance);
        var second = EngineCredentials.Resolve(options, NullLogger.Instance);

        Assert.Matches("^ak-[A-Za-z0-9]{22}$", first.Id);
        Assert.Matches("^as-[A-Za-z0-9]{22}$", first.Secret);
        Assert.Equal((first.Id, first.Secret), (second.Id, second.Secret));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_state.FullName, "engine-token")));
        Assert.NotEqual(first.Secret, EngineToken.Generate().Secret);
    }

    [Fact]
    public void An_operator_token_file_wins_and_is_not_copied_into_the_kept_pair()
    {
        var file = Path.Combine(_state.FullName, "operator");
        File.WriteAllText(file, "# the operator's pair\ntoken_id = \"ak-operator\"\ntoken_secret = \"as-operator\"\n");

        var token = EngineCredentials.Resolve(new EngineOptions { StateDirectory = _state.FullName, TokenFile = file }, NullLogger.Instance);

        Assert.Equal(("ak-operator", "as-operator"), (token.Id, token.Secret));
        Assert.False(File.Exists(Path.Combine(_state.FullName, "engine-token")));
    }

    [Fact]
    public void A_token_file_without_a_secret_is_refused_with_its_path()
    {
        var file = Path.Combine(_state.FullName, "operator");
        File.WriteAllText(file, "token_id = \"ak-operator\"\n");

        var error = Assert.Throws<InvalidDataException>(() =>
            EngineCredentials.Resolve(new EngineOptions { StateDirectory = _state.FullName, TokenFile = file }, NullLogger.Instance));

        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_profile_is_an_active_modal_table_created_owner_only()
    {
        var token = new EngineToken("ak-abc", "as-def");

        var path = EngineCredentials.WriteProfile(_state.FullName, new Uri("https://10.0.0.5:8765/"), token);
        EngineCredentials.WriteProfile(_state.FullName, new Uri("https://10.0.0.5:8766/"), token);

        Assert.Equal(Path.Combine(_state.FullName, "modal.toml"), path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var lines = File.ReadAllLines(path);
        Assert.Contains("[typedsandbox]", lines);
        Assert.Contains("server_url = \"https://10.0.0.5:8766\"", lines);
        Assert.Contains("token_id = \"ak-abc\"", lines);
        Assert.Contains("token_secret = \"as-def\"", lines);
        Assert.Contains("active = true", lines);
        Assert.Single(_state.GetFiles(), f => f.Name.Contains("modal.toml", StringComparison.Ordinal));
    }

    [Fact]
    public void Matching_needs_both_parts_exactly()
    {
        var token = new EngineToken("ak-abc", "as-def");

        Assert.True(token.Matches("ak-abc", "as-def"));
        Assert.False(token.Matches("ak-abc", "as-deF"));
        Assert.False(token.Matches("ak-abc", "as-de"));
        Assert.False(token.Matches("ak-ab", "as-def"));
        Assert.False(token.Matches(null, null));
        Assert.Equal("ak-abc", token.ToString());
    }

    public void Dispose() => _state.Delete(recursive: true);
}
