using TypedSandbox.Protocol.Client;
using TypedSandbox.Protocol.CommandRouter;
using TypedSandbox.Sandboxes;

namespace TypedSandbox.Runtime.Tests.Sandboxes;

public sealed class SandboxRulesTests
{
    [Theory]
    [InlineData("sb-ABCDEFGHIJKLMNOPQRSTUV", true)]
    [InlineData("sb-0123456789abcdefghijkl", true)]
    [InlineData("sb-0123456789abcdefghijk", false)]
    [InlineData("sb-0123456789abcdefghijklm", false)]
    [InlineData("sb-0123456789abcdefghij-l", false)]
    [InlineData("sb-0123456789abcdefghijé1", false)]
    [InlineData("sb2-0123456789abcdefghijkl", false)]
    [InlineData("sb-v2-0123456789abcdefghijkl", false)]
    [InlineData("xx-0123456789abcdefghijkl", false)]
    [InlineData("", false)]
    public void Id_shape_decides_V1(string id, bool isV1)
    {
        Assert.Equal(isV1, SandboxIds.IsV1(id));
    }

    [Fact]
    public void Definition_always_carries_resources_network_and_ports()
    {
        var definition = SandboxRequestBuilder.Build("im-1", new SandboxCreateOptions(), []);

        Assert.Equal("im-1", definition.ImageId);
        Assert.Equal(300u, definition.TimeoutSecs);
        Assert.NotNull(definition.Resources);
        Assert.NotNull(definition.Resources.GpuConfig);
        Assert.Equal(NetworkAccess.Types.NetworkAccessType.Open, definition.NetworkAccess.NetworkAccessType);
        Assert.Equal(TypedSandbox.Protocol.Client.Sandbox.OpenPortsOneofOneofCase.OpenPorts, definition.OpenPortsOneofCase);
        Assert.Empty(definition.OpenPorts.Ports);
        Assert.False(definition.HasWorkdir);
        Assert.False(definition.HasName);
        Assert.False(definition.HasIdleTimeoutSecs);
    }

    [Fact]
    public void Definition_carries_every_option()
    {
        var volume = new Volume("vo-1", "data");
        var options = new SandboxCreateOptions
        {
            Command = ["sleep", "infinity"],
            Timeout = TimeSpan.FromMinutes(10),
            IdleTimeout = TimeSpan.FromSeconds(30),
            Workdir = "/work",
            Volumes = new Dictionary<string, Volume> { ["/data"] = volume, ["/ro"] = volume.AsReadOnly() },
            Cpu = 1.5,
            CpuLimit = 2,
            MemoryMiB = 512,
            MemoryLimitMiB = 1024,
            CidrAllowlist = ["10.0.0.0/8"],
            EncryptedPorts = [8080],
            H2Ports = [8443],
            UnencryptedPorts = [22],
            Name = "worker-1",
            Verbose = true,
        };
        SandboxOptionRules.Validate(options);

        var definition = SandboxRequestBuilder.Build("im-1", options, ["st-1"]);

        Assert.Equal(["sleep", "infinity"], definition.EntrypointArgs);
        Assert.Equal(600u, definition.TimeoutSecs);
        Assert.Equal(30u, definition.IdleTimeoutSecs);
        Assert.Equal("/work", definition.Workdir);
        Assert.Equal("worker-1", definition.Name);
        Assert.True(definition.Verbose);
        Assert.Equal(["st-1"], definition.SecretIds);
        Assert.Equal(1500u, definition.Resources.MilliCpu);
        Assert.Equal(2000u, definition.Resources.MilliCpuMax);
        Assert.Equal(512u, definition.Resources.MemoryMb);
        Assert.Equal(1024u, definition.Resources.MemoryMbMax);
        Assert.Equal(NetworkAccess.Types.NetworkAccessType.Allowlist, definition.NetworkAccess.NetworkAccessType);
        Assert.Equal(["10.0.0.0/8"], definition.NetworkAccess.AllowedCidrs);
        Assert.Collection(definition.OpenPorts.Ports,
            p => Assert.Equal((8080u, false, false), (p.Port, p.Unencrypted, p.HasTunnelType)),
            p => Assert.Equal((8443u, TunnelType.H2), (p.Port, p.TunnelType)),
            p => Assert.Equal((22u, true), (p.Port, p.Unencrypted)));
        Assert.Collection(definition.VolumeMounts,
            m => Assert.Equal(("vo-1", "/data", false, true), (m.VolumeId, m.MountPath, m.ReadOnly, m.AllowBackgroundCommits)),
            m => Assert.Equal(("vo-1", "/ro", true), (m.VolumeId, m.MountPath, m.ReadOnly)));
    }

    [Fact]
    public void Blocked_network_is_BLOCKED()
    {
        var definition = SandboxRequestBuilder.Build("im-1", new SandboxCreateOptions { BlockNetwork = true }, []);

        Assert.Equal(NetworkAccess.Types.NetworkAccessType.Blocked, definition.NetworkAccess.NetworkAccessType);
    }

    public static TheoryData<SandboxCreateOptions, string> InvalidOptions => new()
    {
        { new SandboxCreateOptions { Timeout = TimeSpan.FromMilliseconds(1500) }, "whole number of seconds" },
        { new SandboxCreateOptions { Timeout = TimeSpan.FromHours(25) }, "24 hours" },
        { new SandboxCreateOptions { Timeout = TimeSpan.FromMinutes(1), IdleTimeout = TimeSpan.FromMinutes(2) }, "Idle timeout" },
        { new SandboxCreateOptions { Workdir = "tmp" }, "Workdir" },
        { new SandboxCreateOptions { Name = "my name" }, "Sandbox name 'my name'" },
        { new SandboxCreateOptions { Env = new Dictionary<string, string> { ["A-B"] = "x" } }, "A-B" },
        { new SandboxCreateOptions { BlockNetwork = true, CidrAllowlist = ["10.0.0.0/8"] }, "BlockNetwork" },
        { new SandboxCreateOptions { CidrAllowlist = ["10.0.0.0"] }, "CIDR" },
        { new SandboxCreateOptions { EncryptedPorts = [70000] }, "70000" },
        { new SandboxCreateOptions { Cpu = -1 }, "Cpu" },
        { new SandboxCreateOptions { Cpu = 2, CpuLimit = 1 }, "CpuLimit" },
        { new SandboxCreateOptions { Tags = new Dictionary<string, string> { ["bad key"] = "x" } }, "Tag key" },
        { new SandboxCreateOptions { Volumes = new Dictionary<string, Volume> { ["data"] = new("vo-1", "v") } }, "Mount path" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_options_are_rejected_before_any_call(SandboxCreateOptions options, string mentioned)
    {
        var error = Assert.Throws<InvalidArgumentException>(() => SandboxOptionRules.Validate(options));

        Assert.Contains(mentioned, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Secret_sources_list_secrets_in_order_then_env()
    {
        var named = Secret.Named("st-1", "db");
        var inline = Secret.Inline(new Dictionary<string, string> { ["K"] = "v" });

        var sources = SandboxRequestBuilder.SecretSources([named, inline], new Dictionary<string, string> { ["E"] = "1" }).ToList();

        Assert.Collection(sources,
            s => Assert.Equal("st-1", s.SecretId),
            s => Assert.Equal("v", s.Env.Contents["K"]),
            s => Assert.Equal("1", s.Env.Contents["E"]));
    }

    [Theory]
    [InlineData((int)GenericResult.Types.GenericStatus.Timeout, 7, 124)]
    [InlineData((int)GenericResult.Types.GenericStatus.Terminated, 7, 137)]
    [InlineData((int)GenericResult.Types.GenericStatus.Success, 0, 0)]
    [InlineData((int)GenericResult.Types.GenericStatus.Failure, 3, 3)]
    public void Sandbox_exit_codes_follow_Modal(int status, int exitcode, int expected)
    {
        Assert.Equal(expected, SandboxResponses.ExitCode(new GenericResult { Status = (GenericResult.Types.GenericStatus)status, Exitcode = exitcode }));
    }

    [Fact]
    public void Exec_request_carries_options_and_sends_devnull_as_absent()
    {
        var request = ExecRequestBuilder.Build(["python", "-c", "print(1)"], new ExecOptions
        {
            Timeout = TimeSpan.FromSeconds(3),
            Workdir = "/tmp",
            Env = new Dictionary<string, string> { ["X"] = "1" },
            Stderr = StdioMode.Ignore,
        });

        Assert.Equal(["python", "-c", "print(1)"], request.CommandArgs);
        Assert.Equal(3u, request.TimeoutSecs);
        Assert.Equal("/tmp", request.Workdir);
        Assert.Equal(TaskExecStdoutConfig.Pipe, request.StdoutConfig);
        Assert.Equal(TaskExecStderrConfig.Devnull, request.StderrConfig);
        Assert.Equal("1", Assert.Single(request.SecretSources).Env.Contents["X"]);
        Assert.True(Guid.TryParse(request.ExecId, out _));
        Assert.Empty(request.Env);
    }

    [Fact]
    public void Invalid_execs_are_rejected()
    {
        Assert.Throws<InvalidArgumentException>(() => ExecRequestBuilder.Build([], new ExecOptions()));
        Assert.Throws<InvalidArgumentException>(() => ExecRequestBuilder.Build(["x"], new ExecOptions { Timeout = TimeSpan.FromMilliseconds(500) }));
        Assert.Throws<InvalidArgumentException>(() => ExecRequestBuilder.Build(["x"], new ExecOptions { Workdir = "rel" }));
        Assert.Throws<InvalidArgumentException>(() => ExecRequestBuilder.Build([new string('a', 65537)], new ExecOptions()));
    }

    [Theory]
    [InlineData((int)TaskExecWaitResponse.ExitStatusOneofCase.Code, 0, 0, 0)]
    [InlineData((int)TaskExecWaitResponse.ExitStatusOneofCase.Code, 2, 0, 2)]
    [InlineData((int)TaskExecWaitResponse.ExitStatusOneofCase.Signal, 0, 9, 137)]
    public void Exec_exit_status_is_code_or_128_plus_signal(int status, int code, int signal, int expected)
    {
        Assert.Equal(expected, ContainerProcess.ExitCodeOf((TaskExecWaitResponse.ExitStatusOneofCase)status, code, signal));
    }

    [Fact]
    public void Exec_without_status_has_no_exit_code()
    {
        Assert.Null(ContainerProcess.ExitCodeOf(TaskExecWaitResponse.ExitStatusOneofCase.None, 0, 0));
    }

    [Fact]
    public void Filesystem_tool_errors_map_by_kind()
    {
        var notFound = Assert.IsType<SandboxFilesystemException>(
            SandboxFilesystem.ToolError("""{"error_kind":"NotFound","message":"No such file","detail":""}""", 1, "/x"));
        var other = Assert.IsType<SandboxFilesystemException>(SandboxFilesystem.ToolError("segfault", 139, "/y"));

        Assert.Equal(SandboxFilesystemErrorKind.NotFound, notFound.Kind);
        Assert.Equal("No such file: /x", notFound.Message);
        Assert.Equal(SandboxFilesystemErrorKind.Other, other.Kind);
        Assert.Equal("Operation on '/y' failed with exit code 139", other.Message);
    }

    [Fact]
    public void Tunnel_url_omits_port_443()
    {
        Assert.Equal(new Uri("https://h.example"), new Tunnel(80, "h.example", 443, null, null).Url);
        Assert.Equal(new Uri("https://127.0.0.1:4100"), new Tunnel(80, "127.0.0.1", 4100, null, null).Url);
    }
}
