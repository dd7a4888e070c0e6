using TypedSandbox.Server.Hosting;
using TypedSandbox.Server.Secrets;
using TypedSandbox.Server.State;

namespace TypedSandbox.Server.Tests.Hosting;

/// <summary>The engine's <c>secret</c> command: named secrets written into a state directory.</summary>
public sealed class SecretCommandTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "typedsandbox-secret-cmd-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task Set_stores_values_from_arguments_and_the_environment_and_list_shows_keys_only()
    {
        var environment = new Dictionary<string, string> { ["FROM_SHELL"] = "shell-value-123" };

        var (code, output, error) = await RunAsync(["set", "db", "USER=admin", "FROM_SHELL", "--state-dir", _state], environment);
        Assert.True(code == 0, error);
        Assert.Contains("Secret 'db'", output, StringComparison.Ordinal);
        Assert.DoesNotContain("admin", output, StringComparison.Ordinal);
        Assert.DoesNotContain("shell-value-123", output, StringComparison.Ordinal);

        var listed = await RunAsync(["list", "--state-dir", _state]);
        Assert.Equal(0, listed.Code);
        Assert.Equal("db\tFROM_SHELL,USER", listed.Output.Trim());

        Assert.Equal(new Dictionary<string, string> { ["USER"] = "admin", ["FROM_SHELL"] = "shell-value-123" }, await ReadAsync("db"));
    }

    [Fact]
    public async Task Set_replaces_and_delete_removes()
    {
        Assert.Equal(0, (await RunAsync(["set", "api", "KEY=one", "--state-dir", _state])).Code);
        Assert.Equal(0, (await RunAsync(["set", "api", "KEY=two", "OTHER=x", "--state-dir", _state])).Code);
        Assert.Equal(new Dictionary<string, string> { ["KEY"] = "two", ["OTHER"] = "x" }, await ReadAsync("api"));

        Assert.Equal(0, (await RunAsync(["delete", "api", "--state-dir", _state])).Code);
        var again = await RunAsync(["delete", "api", "--state-dir", _state]);
        Assert.Equal(2, again.Code);
        Assert.Contains("Secret 'api' not found", again.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "set", "db", "1BAD=x" }, "Environment variable key '1BAD' starts with a digit")]
    [InlineData(new[] { "set", "bad name", "KEY=x" }, "Secret name 'bad name' contains ' '")]
    [InlineData(new[] { "set", "db", "NOT_IN_SHELL" }, "'NOT_IN_SHELL' has no value")]
    [InlineData(new[] { "set", "db", "A=1", "A=2" }, "'A' is given twice")]
    [InlineData(new[] { "set", "db" }, "'secret set' got the wrong arguments")]
    [InlineData(new[] { "rotate", "db" }, "'secret rotate' is not a command")]
    public async Task Bad_input_is_refused_with_what_is_wrong(string[] args, string expected)
    {
        var (code, _, error) = await RunAsync([.. args, "--state-dir", _state]);

        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string[] args, Dictionary<string, string>? environment = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await SecretCommand.RunAsync(args, name => environment?.GetValueOrDefault(name), output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<IReadOnlyDictionary<string, string>> ReadAsync(string name)
    {
        await using var database = await StateDatabase.OpenAsync(Path.Combine(_state, "state.db"), CancellationToken.None);
        var secrets = new SecretStore(database, TimeProvider.System);
        var id = await secrets.GetNamedAsync(SecretStore.DefaultEnvironment, name, [], CancellationToken.None);
        return await secrets.ResolveAsync(id, CancellationToken.None);
    }
}
