using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>A layer tarball built in memory, with its compressed form (the blob) and both digests.</summary>
internal sealed record TestLayer(byte[] Tar, byte[] Blob, string MediaType)
{
    public string Digest => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Blob));

    public string DiffId => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Tar));
}

/// <summary>Builds layer tarballs entry by entry (PAX format, numeric ownership).</summary>
internal sealed class LayerBuilder
{
    private static readonly DateTimeOffset FixedTime = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly List<TarEntry> _entries = [];

    /// <summary>Where the host's static busybox lives (Debian's busybox-static package).</summary>
    public static string BusyboxPath { get; } = System.IO.File.Exists("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox";

    /// <summary>A minimal busybox root file system: /bin/busybox, applet symlinks, /etc/passwd, /tmp.</summary>
    public static LayerBuilder BusyboxRootfs()
    {
        var layer = new LayerBuilder()
            .Dir("bin")
            .File("bin/busybox", System.IO.File.ReadAllBytes(BusyboxPath), mode: 0b111_101_101)
            .Dir("etc")
            .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
            .File("etc/group", "root:x:0:\nnogroup:x:65534:\n")
            .Dir("tmp", mode: 0b1_111_111_111)
            .Dir("root", mode: 0b111_000_000);
        foreach (var applet in new[] { "sh", "mkdir", "echo", "cat", "rm", "ls", "touch", "env", "true", "false", "id", "sleep" })
        {
            layer.Symlink("bin/" + applet, "busybox");
        }

        return layer;
    }

    public LayerBuilder Dir(string path, int mode = 0b111_101_101, int uid = 0, int gid = 0) =>
        Add(new PaxTarEntry(TarEntryType.Directory, path + "/") { Mode = (UnixFileMode)mode, Uid = uid, Gid = gid, ModificationTime = FixedTime });

    public LayerBuilder File(string path, string content, int mode = 0b110_100_100, int uid = 0, int gid = 0) =>
        File(path, Encoding.UTF8.GetBytes(content), mode, uid, gid);

    public LayerBuilder File(string path, byte[] content, int mode = 0b110_100_100, int uid = 0, int gid = 0) =>
        Add(new PaxTarEntry(TarEntryType.RegularFile, path)
        {
            DataStream = new MemoryStream(content),
            Mode = (UnixFileMode)mode,
            Uid = uid,
            Gid = gid,
            ModificationTime = FixedTime,
        });

    public LayerBuilder Symlink(string path, string target) =>
        Add(new PaxTarEntry(TarEntryType.SymbolicLink, path) { LinkName = target, Mode = (UnixFileMode)0b111_111_111, ModificationTime = FixedTime });

    public LayerBuilder HardLink(string path, string target) =>
        Add(new PaxTarEntry(TarEntryType.HardLink, path) { LinkName = target, Mode = (UnixFileMode)0b110_100_100, ModificationTime = FixedTime });

    /// <summary>An OCI whiteout: deletes <paramref name="path"/> of the layers below.</summary>
    public LayerBuilder Whiteout(string path)
    {
        var slash = path.LastIndexOf('/');
        var name = slash < 0 ? ".wh." + path : path[..(slash + 1)] + ".wh." + path[(slash + 1)..];
        return File(name, "");
    }

    /// <summary>An OCI opaque whiteout: hides everything the layers below have in <paramref name="dir"/>.</summary>
    public LayerBuilder Opaque(string dir) => File(dir + "/.wh..wh..opq", "");

    public LayerBuilder Add(TarEntry entry)
    {
        _entries.Add(entry);
        return this;
    }

    public TestLayer Build(bool zstd = false)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in _entries)
            {
                entry.DataStream?.Seek(0, SeekOrigin.Begin);
                writer.WriteEntry(entry);
            }
        }

        using var blob = new MemoryStream();
        using (Stream compressor = zstd
            ? new ZstdSharp.CompressionStream(blob, level: 3, leaveOpen: true)
            : new GZipStream(blob, CompressionLevel.Fastest, leaveOpen: true))
        {
            compressor.Write(tar.ToArray());
        }

        var mediaType = zstd ? "application/vnd.oci.image.layer.v1.tar+zstd" : "application/vnd.oci.image.layer.v1.tar+gzip";
        return new TestLayer(tar.ToArray(), blob.ToArray(), mediaType);
    }
}
