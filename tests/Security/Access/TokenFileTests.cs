using Microsoft.Extensions.Logging.Abstractions;
using TypedSandbox.Configuration;
using TypedSandbox.Testing;
using TypedSandbox.Transport;

namespace TypedSandbox.Security.Tests.Access;

/// <summary>An operator's own token pair reaches the engine through a file, never through a command line that every
/// local account can read in <c>ps</c> and <c>/proc/*/cmdline</c>.</summary>
[Collection(CrunAttacks.Name)]
public sealed class TokenFileTests
{
    private const string Secret = "as-operatorSecret7Qx2Lm9Vb4Nk";

    [Fact]
    public async Task The_token_secret_of_a_token_file_never_appears_in_any_process_cmdline()
    {
        var state = TestEngine.NewStateDirectory();
        Directory.CreateDirectory(state);
        var tokenFile = Path.Combine(state, "operator-token");
        await File.WriteAllTextAsync(tokenFile, $"token_id = \"ak-operator\"\ntoken_secret = \"{Secret}\"\n");
        try
        {
            await using (var engine = await EngineProcess.StartAsync(["--port", "0", "--state-dir", state, "--token-file", tokenFile]))
            {
                var exposed = new List<string>();
                foreach (var process in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
                {
                    foreach (var file in new[] { "cmdline", "environ" }.Where(f => f == "cmdline" || process == $"/proc/{engine.Id}"))
                    {
                        try
                        {
                            if ((await File.ReadAllTextAsync(Path.Combine(process, file))).Contains(Secret, StringComparison.Ordinal))
                            {
                                exposed.Add(Path.Combine(process, file));
                            }
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            // The process ended while we looked.
                        }
                    }
                }

                Assert.Empty(exposed);
                Assert.True(File.Exists($"/proc/{engine.Id}/cmdline"), "the engine is still running while we look");

                // The file's pair is the one the engine accepts, and the one its profile hands out.
                Assert.Contains(Secret, await File.ReadAllTextAsync(engine.ConfigPath), StringComparison.Ordinal);
                var settings = ClientSettingsResolver.Resolve(new SandboxClientOptions { ConfigPath = engine.ConfigPath }, _ => null, "/nonexistent");
                Assert.Equal(Secret, settings.TokenSecret);
                await using var client = new SandboxClient(settings, NullLoggerFactory.Instance, RetryPolicy.ControlPlane with { MaxRetries = 0 }, TimeProvider.System);
                Assert.StartsWith("ap-", (await client.Apps.FromNameAsync("token-file", createIfMissing: true)).AppId, StringComparison.Ordinal);
            }
        }
        finally
        {
            TestEngine.DeleteStateDirectory(state);
        }
    }

    [Theory]
    [InlineData("--token-secret")]
    [InlineData("--token-id")]
    public async Task A_token_on_the_command_line_is_refused_and_the_error_names_the_replacement(string flag)
    {
        var outcome = await ExternalProcess.RunAsync(
            EngineProcess.Executable, ["--port", "0", "--state-dir", TestEngine.NewStateDirectory(), flag, Secret], "/", null, TimeSpan.FromMinutes(1));

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--token-file", outcome.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("MODAL_CONFIG_PATH=", outcome.Stdout, StringComparison.Ordinal);
    }
}
