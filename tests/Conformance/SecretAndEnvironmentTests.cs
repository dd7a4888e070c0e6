using static TypedSandbox.Conformance.Tests.JsScenarios;

namespace TypedSandbox.Conformance.Tests;

/// <summary>Secrets (fromObject, fromName), env and workdir on create and on exec, through Modal's JS SDK.</summary>
[Collection(FeatureEngineTests.Name)]
public sealed class SecretAndEnvironmentTests(FeatureEngineFixture fixture)
{
    private const string SecretValue = "sk-live-7d1f0c2e9a-never-logged";
    private const string NamedValue = "pw-named-4b8e61-never-logged";

    [Fact]
    public async Task Env_and_secrets_reach_the_sandbox_and_exec_and_their_values_are_never_logged()
    {
        await FeatureEngineFixture.CreateSecretAsync(fixture.Engine, "database", new Dictionary<string, string> { ["DB_PASSWORD"] = NamedValue });

        var result = await fixture.RunAsync("secrets.mjs", "env-and-secrets", Variables());

        Assert.Equal(
            $"PLAIN=on-create\nAPI_KEY={SecretValue}\nDB_PASSWORD={NamedValue}\nSHARED=from-env\nEXEC_ONLY=unset\n",
            result.GetProperty("created").GetString());
        Assert.Equal("PLAIN=overridden\nEXEC_ONLY=on-exec\nEXEC_SECRET=exec-secret\n", result.GetProperty("onExec").GetString());
        Assert.Equal("EXEC_ONLY=unset\nEXEC_SECRET=unset\n", result.GetProperty("later").GetString());
        AssertNotLogged();
    }

    [Fact]
    public async Task Missing_secrets_and_bad_keys_are_refused_clearly()
    {
        await FeatureEngineFixture.CreateSecretAsync(fixture.Engine, "database", new Dictionary<string, string> { ["DB_PASSWORD"] = NamedValue });

        var result = await fixture.RunAsync("secrets.mjs", "bad-secrets", Variables());

        Assert.Contains("Secret 'no-such-secret-anywhere' not found", Error(result, "missingName"), StringComparison.Ordinal);
        Assert.Contains("missing key(s): NOT_THERE", Error(result, "missingKey"), StringComparison.Ordinal);
        foreach (var name in new[] { "badEnvKey", "badSecretKey", "badExecKey", "badExecSecret" })
        {
            Error(result.GetProperty(name), name, out var errorClass);
            Assert.Equal("InvalidError", errorClass);
        }
    }

    [Fact]
    public async Task The_engine_checks_keys_and_workdirs_itself_for_clients_that_do_not()
    {
        var result = await fixture.RunAsync("secrets.mjs", "engine-checks", Variables());

        Assert.Contains("INVALID_ARGUMENT: Environment variable key '1BAD' starts with a digit", Error(result, "secretKey"), StringComparison.Ordinal);
        Assert.Contains("INVALID_ARGUMENT: Environment variable key 'BAD-KEY' contains '-'", Error(result, "envKey"), StringComparison.Ordinal);
        Assert.Contains("INVALID_ARGUMENT: Workdir 'relative/dir' is not absolute", Error(result, "workdir"), StringComparison.Ordinal);
        AssertNotLogged();
    }

    [Fact]
    public async Task Workdir_applies_on_create_and_on_exec()
    {
        var result = await fixture.RunAsync("secrets.mjs", "workdir");

        Assert.Equal("/tmp\n", result.GetProperty("onCreate").GetString());
        Assert.Equal("/etc\n", result.GetProperty("onExec").GetString());
        Assert.Equal("hi\n", result.GetProperty("relativeFile").GetString());
        Error(result.GetProperty("badExec"), "badExec", out var badExecClass);
        Assert.Equal("InvalidError", badExecClass);
        Assert.Contains("working directory /does/not/exist does not exist", Error(result, "missing"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workdir_missing_from_the_image_is_created_and_a_relative_one_is_refused()
    {
        var created = await fixture.RunAsync("secrets.mjs", "workdir-created");
        var refused = await fixture.RunAsync("secrets.mjs", "workdir-bad-create");

        Assert.Equal("/opt/made/here\n", created.GetString());
        Assert.Contains("workdir must be an absolute path", Error(refused, "workdir-bad-create", out _), StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Variables() => new() { ["SECRET_NAME"] = "database", ["SECRET_VALUE"] = SecretValue };

    private void AssertNotLogged()
    {
        var logs = fixture.Logs.Text;
        Assert.NotEmpty(fixture.Logs.Entries);
        Assert.DoesNotContain(SecretValue, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(NamedValue, logs, StringComparison.Ordinal);
    }
}
