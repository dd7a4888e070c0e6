namespace TypedSandbox.Security.Tests;

/// <summary>
/// Sandbox code may make Unix, IPv4, IPv6 and netlink sockets only. Every other address family is refused by the seccomp
/// filter before the kernel sees it: AF_VSOCK (the hypervisor beside this host), AF_ALG (the kernel's crypto API,
/// CVE-2026-31431) and the rarely used families where socket bugs have been found. A family with high bits set in the
/// register (which the kernel drops when it reads the int) must not pass as another.
/// </summary>
[Collection(CrunAttacks.Name)]
public sealed class SocketFamilyTests(SecurityEngine engine, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public Task Sockets_of_families_beyond_unix_inet_and_netlink_are_refused_by_the_filter() => SocketFamilyAttack.RunAsync(engine, output, gvisor: false);
}

[Collection(RunscAttacks.Name)]
public sealed class RunscSocketFamilyTests(RunscSecurityEngine engine, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public Task Under_gVisor_sockets_of_families_beyond_unix_inet_and_netlink_are_refused() => SocketFamilyAttack.RunAsync(engine, output, gvisor: true);
}

internal static class SocketFamilyAttack
{
    // socket(2) through libc's syscall(), so the family goes into the register as given (Python's socket module checks
    // families itself). Prints "<name> <fd or -errno>" per line.
    private const string Probe = """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        tries = [("unix", 1, 1), ("inet", 2, 1), ("inet6", 10, 1), ("netlink", 16, 3),
                 ("alg", 38, 5), ("vsock", 40, 1), ("vsock-dgram", 40, 2), ("packet", 17, 3), ("key", 15, 3), ("appletalk", 5, 2),
                 ("x25", 9, 5), ("rds", 21, 5), ("can", 29, 3), ("tipc", 30, 5), ("bluetooth", 31, 3), ("xdp", 44, 3),
                 ("alg-high-bits", (1 << 32) | 38, 5), ("vsock-high-bits", (1 << 32) | 40, 1), ("unix-high-bits", (1 << 32) | 1, 1)]
        for name, family, kind in tries:
            fd = libc.syscall(41, ctypes.c_long(family), ctypes.c_long(kind), ctypes.c_long(0))
            print(name, fd if fd >= 0 else -ctypes.get_errno(), flush=True)
            if fd >= 0:
                os.close(fd)
        """;

    private static readonly string[] Allowed = ["unix", "inet", "inet6", "netlink"];

    public static async Task RunAsync(SecurityEngine engine, Xunit.Abstractions.ITestOutputHelper output, bool gvisor)
    {
        await using var sandbox = await engine.CreateSandboxAsync(null, "python:3.13-slim");

        var result = await sandbox.RunAsync(["python3", "-c", Probe]);
        output.WriteLine(result.Stdout + result.Stderr);

        Assert.Equal(0, result.ExitCode);
        var outcomes = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(19, outcomes.Count);
        foreach (var (name, outcome) in outcomes)
        {
            if (Allowed.Contains(name))
            {
                Assert.True(outcome >= 0, $"socket({name}) failed with errno {-outcome}");
            }
            else if (name == "unix-high-bits")
            {
                // The kernel would read AF_UNIX; the filter compares the low 32 bits and lets it through, or refuses it:
                // either is safe, neither makes another family.
                Assert.True(outcome >= 0 || outcome == -1, $"socket({name}) gave {outcome}");
            }
            else
            {
                // EPERM is the filter's answer. gVisor's kernel may also answer for families it lacks: still no socket.
                Assert.True(outcome < 0, $"socket({name}) made descriptor {outcome}");
                if (!gvisor)
                {
                    Assert.True(outcome == -1, $"socket({name}) failed with errno {-outcome}, not the filter's EPERM");
                }
            }
        }
    }
}
