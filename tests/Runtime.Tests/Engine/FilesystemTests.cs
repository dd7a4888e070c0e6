using System.Text;

namespace TypedSandbox.Runtime.Tests.Engine;

/// <summary>The file API (Modal's filesystem tool over exec) against the real engine.</summary>
[Collection(RuntimeEngineGroup.Name)]
public sealed class FilesystemTests(EngineFixture fixture)
{
    [Fact]
    public async Task Files_are_written_read_listed_described_and_removed()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        var fs = sandbox.Filesystem;
        var big = Enumerable.Range(0, 700_000).Select(i => (byte)(i % 253)).ToArray();

        await fs.MakeDirectoryAsync("/scratch/sub", parents: true);
        await fs.WriteTextAsync("/scratch/hello.txt", "hello ✓\n");
        await fs.WriteFileAsync("/scratch/sub/big.bin", big);

        Assert.Equal("hello ✓\n", await fs.ReadTextAsync("/scratch/hello.txt"));
        Assert.Equal(big, await fs.ReadFileAsync("/scratch/sub/big.bin"));
        Assert.Equal("hello ✓\n", (await sandbox.RunAsync(["cat", "/scratch/hello.txt"])).Stdout);

        var entries = await fs.ListFilesAsync("/scratch");
        Assert.Equal(["hello.txt", "sub"], entries.Select(e => e.Name));
        Assert.Equal(SandboxFileType.File, entries[0].Type);
        Assert.Equal(Encoding.UTF8.GetByteCount("hello ✓\n"), entries[0].Size);
        Assert.Equal(SandboxFileType.Directory, entries[1].Type);

        var info = await fs.StatAsync("/scratch/sub/big.bin");
        Assert.Equal(big.Length, info.Size);
        Assert.Equal("/scratch/sub/big.bin", info.Path);
        Assert.NotNull(info.ModifiedTime);

        await fs.RemoveAsync("/scratch", recursive: true);
        var missing = await Assert.ThrowsAsync<SandboxFilesystemException>(() => fs.StatAsync("/scratch"));
        Assert.Equal(SandboxFilesystemErrorKind.NotFound, missing.Kind);
    }

    [Fact]
    public async Task Filesystem_errors_say_what_went_wrong()
    {
        await using var sandbox = await fixture.CreateSandboxAsync();
        var fs = sandbox.Filesystem;
        await fs.MakeDirectoryAsync("/data/full", parents: true);
        await fs.WriteTextAsync("/data/full/x", "x");

        var notFound = await Assert.ThrowsAsync<SandboxFilesystemException>(() => fs.ReadFileAsync("/data/nothing"));
        var isDirectory = await Assert.ThrowsAsync<SandboxFilesystemException>(() => fs.ReadFileAsync("/data"));
        var notEmpty = await Assert.ThrowsAsync<SandboxFilesystemException>(() => fs.RemoveAsync("/data/full"));
        var notDirectory = await Assert.ThrowsAsync<SandboxFilesystemException>(() => fs.ListFilesAsync("/data/full/x"));

        Assert.Equal(SandboxFilesystemErrorKind.NotFound, notFound.Kind);
        Assert.EndsWith(": /data/nothing", notFound.Message, StringComparison.Ordinal);
        Assert.Equal(SandboxFilesystemErrorKind.IsADirectory, isDirectory.Kind);
        Assert.Equal(SandboxFilesystemErrorKind.DirectoryNotEmpty, notEmpty.Kind);
        Assert.Equal(SandboxFilesystemErrorKind.NotADirectory, notDirectory.Kind);
        await Assert.ThrowsAsync<InvalidArgumentException>(() => fs.ReadFileAsync("relative"));
    }
}
