using System.Runtime.Versioning;
using Grpc.Core;
using TypedSandbox.Testing;

namespace TypedSandbox.Security.Tests.Access;

/// <summary>
/// Who may drive the engine on loopback: only a caller holding the engine's token pair, which sits in a profile only the
/// engine's account can read. Attacks from another local account (nobody) and with forged or misspelled calls.
/// </summary>
[Collection(CrunAttacks.Name)]
[SupportedOSPlatform("linux")]
public sealed class EngineAccessTests(SecurityEngine engine)
{
    private const int Ok = 0;
    private const int Unimplemented = 12;
    private const int Unauthenticated = 16;

    [Fact]
    public async Task Nobody_cannot_read_the_engines_profile_with_its_token()
    {
        var profile = engine.Engine.ConfigPath;
        Assert.Contains(engine.Engine.Token.Secret, await File.ReadAllTextAsync(profile), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(profile));

        var cat = await HostAccount.RunAsNobodyAsync(["cat", profile]);

        Assert.NotEqual(0, cat.ExitCode);
        Assert.DoesNotContain(engine.Engine.Token.Secret, cat.Stdout, StringComparison.Ordinal);
        Assert.Contains("Permission denied", cat.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nobody_cannot_read_the_engines_kept_token_pair()
    {
        var kept = Path.Combine(engine.Engine.StateDirectory, "engine-token");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(kept));

        var cat = await HostAccount.RunAsNobodyAsync(["cat", kept]);

        Assert.NotEqual(0, cat.ExitCode);
        Assert.DoesNotContain(engine.Engine.Token.Secret, cat.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_made_up_token_pair_on_loopback_is_unauthenticated_through_the_CSharp_client()
    {
        await using var client = SecurityEngine.CreateClient(engine.Engine.Url, "ak-madeup0000000000000000", "as-madeup0000000000000000");

        var error = await Assert.ThrowsAsync<SandboxAuthenticationException>(() => client.Apps.FromNameAsync("intruder", createIfMissing: true));

        Assert.Equal(StatusCode.Unauthenticated, Assert.IsType<RpcException>(error.InnerException).StatusCode);
    }

    [Fact]
    public async Task The_right_token_id_with_a_wrong_secret_is_unauthenticated()
    {
        await using var client = SecurityEngine.CreateClient(engine.Engine.Url, engine.Engine.Token.Id, engine.Engine.Token.Secret + "x");

        var error = await Assert.ThrowsAsync<SandboxAuthenticationException>(() => client.Apps.FromNameAsync("intruder", createIfMissing: true));

        Assert.Equal(StatusCode.Unauthenticated, Assert.IsType<RpcException>(error.InnerException).StatusCode);
    }

    [Fact]
    public async Task Modals_JS_SDK_run_as_nobody_with_a_made_up_token_pair_is_refused()
    {
        var environment = new Dictionary<string, string>
        {
            ["MODAL_SERVER_URL"] = engine.Engine.Url.ToString().TrimEnd('/'),
            ["MODAL_TOKEN_ID"] = "ak-madeup0000000000000000",
            ["MODAL_TOKEN_SECRET"] = "as-madeup0000000000000000",
            ["MODAL_CONFIG_PATH"] = "/nonexistent/modal.toml",
        };
        var script = ModalJs.Script("""
            const app = await modal.apps.fromName("intruder-js", { createIfMissing: true });
            return app.appId;
            """);

        var outcome = await HostAccount.RunAsNobodyAsync(["node", "--input-type=module", "-e", script], environment);

        var result = ModalJs.Result(outcome);
        Assert.False(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        Assert.Equal(Unauthenticated, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Modals_JS_SDK_run_as_nobody_with_the_engines_profile_path_gets_no_token_and_is_refused()
    {
        // nobody points the SDK at the engine's profile, which it cannot read: the SDK then has no token at all.
        var environment = new Dictionary<string, string> { ["MODAL_CONFIG_PATH"] = engine.Engine.ConfigPath, ["MODAL_SERVER_URL"] = engine.Engine.Url.ToString().TrimEnd('/') };
        var script = ModalJs.Script("""return (await modal.apps.fromName("intruder-js", { createIfMissing: true })).appId;""");

        var outcome = await HostAccount.RunAsNobodyAsync(["node", "--input-type=module", "-e", script], environment);

        var result = ModalJs.Result(outcome);
        Assert.False(result.GetProperty("ok").GetBoolean(), result.GetRawText());
    }

    [Theory]
    [InlineData("/modal.client.ModalClient/AppGetOrCreate")]
    [InlineData("/MODAL.CLIENT.MODALCLIENT/APPGETORCREATE")]
    [InlineData("/modal.client.ModalClient/AuthTokenGet")]
    [InlineData("/modal.task_command_router.TaskCommandRouter/TaskExecStart")]
    public async Task A_raw_gRPC_call_without_any_token_is_unauthenticated(string path)
    {
        Assert.Equal(Unauthenticated, await RawGrpc.CallAsync(engine.Engine.Url, path));
    }

    [Theory]
    [InlineData("/modal.TASK_COMMAND_ROUTER.TaskCommandRouter/TaskExecStart")]
    [InlineData("/Modal.Task_Command_Router.TaskCommandRouter/TaskExecStart")]
    [InlineData("/modal.task_command_router.taskcommandrouter/taskexecstart")]
    [InlineData("/MODAL.TASK_COMMAND_ROUTER.TASKCOMMANDROUTER/TASKEXECPOLL")]
    public async Task A_case_changed_router_path_with_the_control_plane_token_does_not_skip_the_router_JWT_check(string path)
    {
        // The control plane's pair is no router token: only a JWT minted for the task opens the router.
        var headers = new Dictionary<string, string>
        {
            ["x-modal-token-id"] = engine.Engine.Token.Id,
            ["x-modal-token-secret"] = engine.Engine.Token.Secret,
        };

        var status = await RawGrpc.CallAsync(engine.Engine.Url, path, headers);

        Assert.True(status is Unauthenticated or Unimplemented, $"{path} answered grpc-status {status}");
        Assert.NotEqual(Ok, status);
    }

    [Theory]
    [InlineData("/modal.TASK_COMMAND_ROUTER.TaskCommandRouter/TaskExecStart")]
    [InlineData("/modal.task_command_router.taskcommandrouter/taskexecstart")]
    public async Task A_case_changed_router_path_with_a_forged_bearer_token_is_unauthenticated(string path)
    {
        var headers = new Dictionary<string, string> { ["authorization"] = "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0YS0xIn0." };

        var status = await RawGrpc.CallAsync(engine.Engine.Url, path, headers);

        Assert.True(status is Unauthenticated or Unimplemented, $"{path} answered grpc-status {status}");
    }

    [Fact]
    public async Task A_method_the_engine_does_not_serve_is_unimplemented_even_with_a_token()
    {
        var headers = new Dictionary<string, string>
        {
            ["x-modal-token-id"] = engine.Engine.Token.Id,
            ["x-modal-token-secret"] = engine.Engine.Token.Secret,
        };

        var status = await RawGrpc.CallAsync(engine.Engine.Url, "/modal.client.ModalClient/NoSuchMethod", headers);

        Assert.True(status is Unauthenticated or Unimplemented, $"answered grpc-status {status}");
    }

    [Fact]
    public async Task The_engines_own_token_pair_is_accepted_through_its_profile()
    {
        // The control case of the attacks above: the same raw call with the engine's pair succeeds.
        var headers = new Dictionary<string, string>
        {
            ["x-modal-token-id"] = engine.Engine.Token.Id,
            ["x-modal-token-secret"] = engine.Engine.Token.Secret,
        };

        Assert.Equal(Ok, await RawGrpc.CallAsync(engine.Engine.Url, "/modal.client.ModalClient/AuthTokenGet", headers));
        var outcome = await ExternalProcess.RunAsync(
            "node", ["--input-type=module", "-e", ModalJs.Script("""return (await modal.apps.fromName("security-tests")).appId;""")], "/",
            TestEngine.ModalEnvironmentFor(engine.Engine.StateDirectory), TimeSpan.FromMinutes(1));
        var result = ModalJs.Result(outcome);
        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetRawText());
        Assert.Equal(engine.App.AppId, result.GetProperty("value").GetString());
    }
}
