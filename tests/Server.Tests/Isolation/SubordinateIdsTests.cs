using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Tests.Isolation;

public sealed class SubordinateIdsTests : IDisposable
{
    private readonly string _etc = Path.Combine(Path.GetTempPath(), "tsb-etc-" + Guid.NewGuid().ToString("N")[..8]);

    public SubordinateIdsTests() => Directory.CreateDirectory(_etc);

    public void Dispose() => Directory.Delete(_etc, recursive: true);

    [Fact]
    public void Ensure_adds_one_entry_to_both_files_past_other_ranges_and_accounts_then_reuses_it()
    {
        File.WriteAllText(Path.Combine(_etc, "subuid"), "alice:100000:65536");
        File.WriteAllText(Path.Combine(_etc, "subgid"), "alice:100000:65536\n");
        File.WriteAllText(Path.Combine(_etc, "passwd"), "root:x:0:0::/root:/bin/sh\nbig:x:131072:131072::/:/bin/sh\n");
        File.WriteAllText(Path.Combine(_etc, "group"), "root:x:0:\n");

        var first = SubordinateIds.Ensure(_etc);
        var second = SubordinateIds.Ensure(_etc);

        // 131072 is the first multiple of 65536 past alice's range, but an account uses it: the next one.
        Assert.Equal(new SandboxIdRange(196608, 65536), first);
        Assert.Equal(first, second);
        Assert.Equal(["alice:100000:65536", "typedsandbox:196608:65536"], File.ReadAllLines(Path.Combine(_etc, "subuid")));
        Assert.Equal(["alice:100000:65536", "typedsandbox:196608:65536"], File.ReadAllLines(Path.Combine(_etc, "subgid")));
    }

    [Fact]
    public void Ensure_creates_missing_files()
    {
        var range = SubordinateIds.Ensure(_etc);

        Assert.Equal(131072, range.HostId);
        Assert.Equal("typedsandbox:131072:65536\n", File.ReadAllText(Path.Combine(_etc, "subgid")));
    }

    [Fact]
    public void Ensure_refuses_entries_that_disagree()
    {
        File.WriteAllText(Path.Combine(_etc, "subuid"), "typedsandbox:131072:65536\n");
        File.WriteAllText(Path.Combine(_etc, "subgid"), "typedsandbox:196608:65536\n");

        var error = Assert.Throws<HostNotReadyException>(() => SubordinateIds.Ensure(_etc));

        Assert.Contains("must start at the same id", error.Message, StringComparison.Ordinal);
    }
}
