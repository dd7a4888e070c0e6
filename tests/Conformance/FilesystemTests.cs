using System.Security.Cryptography;
using System.Text.Json;

namespace TypedSandbox.Conformance.Tests;

/// <summary>sb.filesystem.* through Modal's JS SDK on crun.</summary>
[Collection(EngineTests.Name)]
public sealed class FilesystemTests(EngineFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : FilesystemConformance(fixture, output);

/// <summary>The same on gVisor (runsc), whose kernel resolves the paths.</summary>
[Collection(RunscEngineTests.Name)]
public sealed class RunscFilesystemTests(RunscEngineFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : FilesystemConformance(fixture, output);

/// <summary>sb.filesystem.* through Modal's JS SDK: every operation byte-exact, the SDK's error classes, and no way out
/// of the sandbox through "..", absolute symlinks or links to directories.</summary>
public abstract class FilesystemConformance(EngineFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Text_binary_empty_and_five_mebibyte_files_round_trip_exactly()
    {
        var result = await RunAsync("fs-round-trip");

        Assert.Equal("héllo wörld ✓\nsecond line\n", result.GetProperty("readText").GetString());
        var allBytes = Convert.ToHexStringLower([.. Enumerable.Range(0, 256).Select(i => (byte)i)]);
        Assert.Equal(allBytes, result.GetProperty("readBytes").GetString());
        Assert.Equal(allBytes, result.GetProperty("copied").GetString());
        Assert.Equal("short", result.GetProperty("overwritten").GetString());
        Assert.Equal(0, result.GetProperty("empty").GetInt32());
        Assert.Equal("from exec", result.GetProperty("fromExec").GetString());
        Assert.Equal("héllo wörld ✓\nsecond line\n", result.GetProperty("catHello").GetString());

        var big = result.GetProperty("big");
        var expected = Convert.ToHexStringLower(SHA256.HashData(FiveMebibytes()));
        Assert.Equal(expected, big.GetProperty("sent").GetString());
        Assert.Equal(expected, big.GetProperty("received").GetString());
        Assert.Equal(5 * 1024 * 1024, big.GetProperty("length").GetInt32());
        Assert.Equal([expected, (5 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)],
            big.GetProperty("sandbox").EnumerateArray().Select(e => e.GetString()!.Trim()));
    }

    [Fact]
    public async Task An_aborted_upload_leaves_the_old_file_and_a_replacement_keeps_its_mode()
    {
        var result = await RunAsync("fs-aborted-write");

        Assert.False(result.GetProperty("aborted").GetProperty("ok").GetBoolean());
        Assert.Contains("EISDIR", result.GetProperty("aborted").GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("original", result.GetProperty("afterAbort").GetString());
        Assert.Equal("replaced", result.GetProperty("replaced").GetString());
        Assert.Equal("0600", result.GetProperty("mode").GetString());
    }

    [Fact]
    public async Task Directories_are_made_listed_statted_and_removed()
    {
        var result = await RunAsync("fs-directories");

        var listing = result.GetProperty("listing").EnumerateArray().ToList();
        Assert.Equal(["a", "file.txt", "keep", "link", "solo"], listing.Select(e => e.GetProperty("name").GetString()));
        Assert.Equal(["directory", "file", "directory", "symlink", "directory"], listing.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal("/data/file.txt", listing[1].GetProperty("path").GetString());

        // mode is st_mode (type bits included); permissions the permission bits in octal.
        var file = result.GetProperty("statFile");
        Assert.Equal("file.txt", file.GetProperty("name").GetString());
        Assert.Equal("/data/file.txt", file.GetProperty("path").GetString());
        Assert.Equal("file", file.GetProperty("type").GetString());
        Assert.Equal(5, file.GetProperty("size").GetInt64());
        Assert.Equal(Convert.ToInt32("100644", 8), file.GetProperty("mode").GetInt32());
        Assert.Equal("0644", file.GetProperty("permissions").GetString());
        Assert.Equal("root", file.GetProperty("owner").GetString());
        Assert.Equal("root", file.GetProperty("group").GetString());
        Assert.Equal(JsonValueKind.Null, file.GetProperty("symlinkTarget").ValueKind);

        // What busybox stat says about the same files: mode, owner, group, size, mtime.
        var ls = result.GetProperty("lsSolo").EnumerateArray().Select(e => e.GetString()!.Split(' ')).ToList();
        Assert.Equal(["644", "root", "root", "5"], ls[1][..4]);
        Assert.Equal(long.Parse(ls[1][4], System.Globalization.CultureInfo.InvariantCulture), (long)Math.Floor(file.GetProperty("modifiedTime").GetDouble()));

        var directory = result.GetProperty("statDir");
        Assert.Equal("directory", directory.GetProperty("type").GetString());
        Assert.Equal(Convert.ToInt32("40750", 8), directory.GetProperty("mode").GetInt32());
        Assert.Equal("0750", directory.GetProperty("permissions").GetString());
        Assert.Equal(["750", "root", "root"], ls[0][..3]);

        var link = result.GetProperty("statLink");
        Assert.Equal("symlink", link.GetProperty("type").GetString());
        Assert.Equal("file.txt", link.GetProperty("symlinkTarget").GetString());
        Assert.Equal(Convert.ToInt32("120777", 8), link.GetProperty("mode").GetInt32());
        Assert.Equal(8, link.GetProperty("size").GetInt64());

        var root = result.GetProperty("statRoot");
        Assert.Equal("/", root.GetProperty("path").GetString());
        Assert.Equal("/", root.GetProperty("name").GetString());
        Assert.Equal("directory", root.GetProperty("type").GetString());

        Assert.Equal("12345", result.GetProperty("targetAfterLinkRemoved").GetString());
        Assert.Equal(["a", "keep"], result.GetProperty("after").EnumerateArray().Select(e => e.GetString()).Order(StringComparer.Ordinal));
        Assert.Equal("kept\n", result.GetProperty("keep").GetString());
    }

    [Fact]
    public async Task Failures_map_to_the_sdk_error_classes()
    {
        var result = await RunAsync("fs-errors");

        AssertError(result, "readMissing", "SandboxFilesystemNotFoundError", "path does not exist: /e/missing.txt");
        AssertError(result, "readDirectory", "SandboxFilesystemIsADirectoryError", "expected a file path: /e/full");
        AssertError(result, "readHuge", "SandboxFilesystemFileTooLargeError", "file is 6442450944 bytes, which exceeds the 5368709120 byte limit: /tmp/huge.bin");
        AssertError(result, "writeOnDirectory", "SandboxFilesystemIsADirectoryError", "expected a file path: /e/full");
        AssertError(result, "writeUnderFile", "SandboxFilesystemNotADirectoryError", "a component of the path is not a directory: /e/file.txt/child.txt");
        AssertError(result, "writeReadOnly", "SandboxFilesystemPermissionError", "read-only file system: /sys/planted.txt");
        AssertError(result, "listMissing", "SandboxFilesystemNotFoundError", "path does not exist: /e/missing");
        AssertError(result, "listFile", "SandboxFilesystemNotADirectoryError", "expected a directory path: /e/file.txt");
        AssertError(result, "mkdirExisting", "SandboxFilesystemPathAlreadyExistsError", "path already exists: /e/full");
        AssertError(result, "mkdirNoParent", "SandboxFilesystemNotFoundError", "parent directory does not exist: /e/nope/child");
        AssertError(result, "mkdirUnderFile", "SandboxFilesystemNotADirectoryError", "a component of the path is not a directory: /e/file.txt/sub");
        AssertError(result, "removeMissing", "SandboxFilesystemNotFoundError", "path does not exist: /e/missing.txt");
        AssertError(result, "removeNotEmpty", "SandboxFilesystemDirectoryNotEmptyError", "directory is not empty: /e/full");
        AssertError(result, "removeAgent", "SandboxFilesystemPermissionError", "read-only file system: /.typedsandbox");
        AssertError(result, "statMissing", "SandboxFilesystemNotFoundError", "path does not exist: /e/missing.txt");
        AssertError(result, "statUnderFile", "SandboxFilesystemNotADirectoryError", "a component of the path is not a directory: /e/file.txt/x");
        Assert.Equal("InvalidError", result.GetProperty("relativePath").GetProperty("error").GetProperty("name").GetString());
        Assert.Equal("x", result.GetProperty("stillThere").GetString());
        Assert.Equal("yes", result.GetProperty("agentStillThere").GetString());
    }

    [Fact]
    public async Task Dot_dots_and_symlinks_never_reach_host_files()
    {
        // Outside /tmp (the sandbox has its own /tmp, so a host path there would be out of reach for a weaker reason).
        var hostDirectory = "/var/tmp/typedsandbox-host-only-" + Guid.NewGuid().ToString("N")[..12];
        Directory.CreateDirectory(hostDirectory);
        var secret = Path.Combine(hostDirectory, "secret.txt");
        await File.WriteAllTextAsync(secret, "host secret");
        try
        {
            var result = await RunAsync("fs-escape", new Dictionary<string, string> { ["HOST_DIR"] = hostDirectory });
            var json = result.GetRawText();
            Assert.DoesNotContain("host secret", json, StringComparison.Ordinal);

            const string notFound = "path does not exist: ";
            AssertError(result, "viaAbsoluteLink", "SandboxFilesystemNotFoundError", notFound + "/tmp/secret-link");
            Assert.Equal("SandboxFilesystemNotFoundError", ErrorName(result, "viaDotDot"));
            Assert.Equal("SandboxFilesystemNotFoundError", ErrorName(result, "viaDirLink"));
            Assert.Equal("SandboxFilesystemNotFoundError", ErrorName(result, "listViaDirLink"));
            Assert.Equal("SandboxFilesystemNotFoundError", ErrorName(result, "statViaDotDot"));

            // /etc/hostname resolves to the sandbox's own, whichever way it is named.
            var sandboxHostname = result.GetProperty("sandboxHostname").GetString();
            Assert.NotEqual((await File.ReadAllTextAsync("/etc/hostname")).Trim(), sandboxHostname!.Trim());
            foreach (var way in new[] { "hostnameViaLink", "hostnameViaRelativeLink", "hostnameViaDotDot" })
            {
                Assert.Equal(sandboxHostname, result.GetProperty(way).GetProperty("value").GetString());
            }

            // Writes and removals through host-looking paths happen inside the sandbox only.
            foreach (var way in new[] { "writeViaDirLink", "writeViaDotDot", "overwriteViaLink", "readBackInSandbox", "removeViaLink", "removeViaDotDot" })
            {
                Assert.True(result.GetProperty(way).GetProperty("ok").GetBoolean(), way + ": " + result.GetProperty(way).GetRawText());
            }

            Assert.Equal("overwritten", result.GetProperty("readBackInSandbox").GetProperty("value").GetString());
            Assert.Equal("host secret", await File.ReadAllTextAsync(secret));
            Assert.Equal([secret], Directory.GetFileSystemEntries(hostDirectory));
        }
        finally
        {
            Directory.Delete(hostDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Watch_reports_changes_below_the_path_and_ends_at_its_timeout()
    {
        var result = await RunAsync("fs-watch");

        var first = result.GetProperty("first");
        Assert.Contains(first.GetProperty("eventType").GetString(), new[] { "Create", "Modify" });
        Assert.StartsWith("/watched/sub/file-", first.GetProperty("paths")[0].GetString(), StringComparison.Ordinal);
        Assert.True(result.GetProperty("underWatched").GetBoolean(), result.GetRawText());
        var removal = Assert.Single(result.GetProperty("removals").EnumerateArray());
        Assert.Equal("Remove", removal.GetProperty("eventType").GetString());
        Assert.StartsWith("/watched/sub/gone-", removal.GetProperty("paths")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, result.GetProperty("timedOutQuietly").GetInt32());
        Assert.Equal("SandboxFilesystemNotFoundError", ErrorName(result, "watchMissing"));
    }

    private async Task<JsonElement> RunAsync(string scenario, IReadOnlyDictionary<string, string>? environment = null)
    {
        var result = await fixture.RunAsync("filesystem.mjs", scenario, environment);
        output.WriteLine(result.GetRawText());
        return result;
    }

    private static string? ErrorName(JsonElement result, string property)
    {
        var value = result.GetProperty(property);
        Assert.False(value.GetProperty("ok").GetBoolean(), $"{property} should have failed: {value.GetRawText()}");
        return value.GetProperty("error").GetProperty("name").GetString();
    }

    private static void AssertError(JsonElement result, string property, string name, string message)
    {
        var error = result.GetProperty(property).GetProperty("error");
        Assert.True(name == ErrorName(result, property), $"{property}: expected {name}, got {error.GetRawText()}");
        Assert.Equal(message, error.GetProperty("message").GetString());
    }

    // The same xorshift32 pattern filesystem.mjs writes.
    private static byte[] FiveMebibytes()
    {
        var bytes = new byte[5 * 1024 * 1024];
        var x = 2463534242u;
        for (var i = 0; i < bytes.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bytes[i] = (byte)x;
        }
        return bytes;
    }
}
