using TypedSandbox.Server.Images;
using TypedSandbox.Server.Isolation;

namespace TypedSandbox.Server.Hosting;

/// <summary>
/// Makes the state directory root-only whatever the umask. Host users other than root get no access at all: the
/// directory and the folders on the way to what the OCI runtime opens from inside a sandbox's user namespace (bundles,
/// volumes) are 0710 root:&lt;the sandboxes' root gid&gt; — searchable by that one group, which no host account has
/// (<see cref="SubordinateIds"/> picks a range no account uses), as Docker's <c>userns-remap</c> does; the image store is
/// 0700; the SQLite database and its journal files (named secrets live there) are 0600. Existing ones are tightened too,
/// so a state directory from an older engine is closed at the next start.
/// </summary>
internal static class StateDirectoryModes
{
    /// <summary>rwx for root, x for the sandboxes' root group, nothing for others.</summary>
    public const int SearchableBySandboxes = 0b111_001_000;

    private const int RootOnlyDirectory = 0b111_000_000;
    private const int RootOnlyFile = 0b110_000_000;
    private static readonly string[] DatabaseFiles = ["state.db", "state.db-wal", "state.db-shm", "state.db-journal"];

    public static void Secure(string stateDirectory, SandboxIdRange ids)
    {
        SearchableBySandboxRoot(stateDirectory, ids);
        SearchableBySandboxRoot(Path.Combine(stateDirectory, "sandboxes"), ids);
        var images = Path.Combine(stateDirectory, "images");
        Directory.CreateDirectory(images);
        NativeFileSystem.Chmod(images, RootOnlyDirectory);

        // SQLite creates its -wal and -shm files with the database file's mode: make that one 0600 before SQLite opens it
        // (the directory is already closed to others, so nobody sees the moment between create and chmod).
        var database = Path.Combine(stateDirectory, DatabaseFiles[0]);
        if (!File.Exists(database))
        {
            using var created = new FileStream(database, FileMode.CreateNew, FileAccess.Write);
        }

        foreach (var file in DatabaseFiles.Select(f => Path.Combine(stateDirectory, f)).Where(File.Exists))
        {
            NativeFileSystem.Chmod(file, RootOnlyFile);
        }
    }

    /// <summary>
    /// The limited storage's mount (btrfs makes its root 0755): the way to volumes is searchable by the sandboxes' root
    /// group only, the sandboxes' and build steps' writable layers (used by the kernel's overlay with the engine's rights) root-only.
    /// </summary>
    public static void SecureWritableStorage(StorageQuota quota, SandboxIdRange ids)
    {
        SearchableBySandboxRoot(quota.MountPoint, ids);
        SearchableBySandboxRoot(quota.VolumesDirectory, ids);
        foreach (var overlayOnly in new[] { quota.SandboxesDirectory, quota.BuildsDirectory })
        {
            Directory.CreateDirectory(overlayOnly);
            NativeFileSystem.Chmod(overlayOnly, RootOnlyDirectory);
        }
    }

    /// <summary>Creates <paramref name="directory"/> (when missing) as 0710 root:&lt;the sandboxes' root gid&gt;.</summary>
    public static void SearchableBySandboxRoot(string directory, SandboxIdRange ids)
    {
        Directory.CreateDirectory(directory);
        NativeFileSystem.LChown(directory, 0, ids.HostId);
        NativeFileSystem.Chmod(directory, SearchableBySandboxes);
    }
}
