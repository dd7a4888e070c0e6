namespace TypedSandbox.Security.Tests;

/// <summary>
/// Sandbox code writes forged agent frames (Stdout "forged" and Exited 0 for every likely exec id, unsealed and with
/// guessed tags) into the agent's channel through /proc/1/fd/1, /proc/1/fd/0 and /proc/1/mem while another exec runs
/// <c>sleep 5; exit 3</c>. That exec must end with 3 and its true output, or the sandbox must be ended: never a forged 0.
/// </summary>
internal static class ForgedFrameAttack
{
    // Frame: type (1), id (uint32 LE), length (int32 LE), payload, then what a sealed frame would carry (8 bytes).
    private const string Forger = """
        import os, struct, sys
        def frame(kind, ident, payload, tag=b""):
            return struct.pack("<BIi", kind, ident, len(payload)) + payload + tag
        forged = b"".join(frame(13, i, b"forged\n") + frame(15, i, b"\x01") + frame(15, i, b"\x02") + frame(16, i, struct.pack("<ii", 0, 0)) for i in range(0, 64))
        sealed = b"".join(frame(13, i, b"forged\n", os.urandom(8)) + frame(16, i, struct.pack("<ii", 0, 0), os.urandom(8)) for i in range(0, 64))
        for path in ["/proc/1/fd/1", "/proc/1/fd/0"]:
            try:
                fd = os.open(path, os.O_WRONLY)
                os.write(fd, forged); os.write(fd, sealed); os.close(fd)
                print("wrote", path, flush=True)
            except OSError as e:
                print("refused", path, e.strerror, flush=True)
        try:
            with open("/proc/1/mem", "rb") as mem:
                print("read /proc/1/mem", len(mem.read(16)), flush=True)
        except OSError as e:
            print("refused /proc/1/mem", e.strerror, flush=True)
        """;

    public static async Task RunAsync(SecurityEngine engine)
    {
        await using var sandbox = await engine.CreateSandboxAsync(null, "python:3.13-slim");
        var victim = await sandbox.ExecAsync(["sh", "-c", "echo true-output; sleep 5; exit 3"]);
        var victimOutput = victim.Stdout.ReadToEndAsync();

        string forgerOutput;
        try
        {
            forgerOutput = (await sandbox.RunAsync(["python3", "-c", Forger])).Stdout;
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            forgerOutput = "the forger's exec ended with the sandbox: " + e.Message;
        }

        int exitCode;
        string output;
        try
        {
            exitCode = await victim.WaitAsync();
            output = await victimOutput;
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            return; // the sandbox was ended: the forgery was detected, not believed
        }

        Assert.DoesNotContain("forged", output, StringComparison.Ordinal);
        Assert.True(exitCode != 0, $"a forged exit code 0 was believed (forger: {forgerOutput})");
        // Still running normally: the true result, or the sandbox killed (137) because the forgery was detected.
        Assert.True(exitCode == 3 && output.Contains("true-output", StringComparison.Ordinal) || exitCode == 137,
            $"exit {exitCode}, output '{output}' (forger: {forgerOutput})");
    }
}

[Collection(RunscAttacks.Name)]
public sealed class RunscAgentChannelAttackTests(RunscSecurityEngine engine)
{
    [Fact]
    public Task Frames_forged_into_the_agents_channel_through_proc_1_fd_cannot_change_an_exec_result_under_runsc() =>
        ForgedFrameAttack.RunAsync(engine);
}

[Collection(CrunAttacks.Name)]
public sealed class CrunAgentChannelAttackTests(SecurityEngine engine)
{
    [Fact]
    public Task Frames_forged_into_the_agents_channel_through_proc_1_fd_cannot_change_an_exec_result_under_crun() =>
        ForgedFrameAttack.RunAsync(engine);
}
