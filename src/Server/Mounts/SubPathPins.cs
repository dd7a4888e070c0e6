using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Mounts;

/// <summary>
/// Holds volume sub paths still while a sandbox starts. A sub path checked by name could be swapped for a symlink by
/// another sandbox before the OCI runtime mounts it; so the engine binds the very directory it checked (by its
/// descriptor: open_tree, move_mount) at a private path beside the volumes, the runtime mounts that, and the pin is
/// detached as soon as the sandbox runs (its own mount keeps the directory). Disposing detaches every pin.
/// </summary>
internal sealed class SubPathPins : IDisposable
{
    private const string DirectoryName = ".subpath-pins";
    private readonly List<string> _pins = [];

    /// <summary>Binds the directory <paramref name="directoryFd"/> of the volume at <paramref name="volumeDirectory"/>; returns the pin's path.</summary>
    public string Pin(string volumeDirectory, int directoryFd)
    {
        var volumes = Path.GetDirectoryName(volumeDirectory)!;
        var pins = Path.Combine(volumes, DirectoryName);
        if (!Directory.Exists(pins))
        {
            // As searchable as the volumes directory (the runtime opens mount sources as the sandbox's root), no more.
            Directory.CreateDirectory(pins);
            var (uid, gid, _) = NativeFileSystem.LStat(volumes);
            NativeFileSystem.LChown(pins, uid, gid);
            NativeFileSystem.Chmod(pins, 0b111_001_000);
        }

        var pin = Path.Combine(pins, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(pin);
        _pins.Add(pin);
        var tree = MountSyscalls.OpenTreeClone(directoryFd, "", emptyPath: true);
        try
        {
            var target = MountSyscalls.Open(pin, MountSyscalls.OPath | MountSyscalls.ODirectory);
            try
            {
                MountSyscalls.MoveMount(tree, target);
            }
            finally
            {
                MountSyscalls.Close(target);
            }
        }
        finally
        {
            MountSyscalls.Close(tree);
        }

        return pin;
    }

    /// <summary>Detaches and removes every pin (the sandboxes' own mounts stay).</summary>
    public void Dispose()
    {
        foreach (var pin in _pins)
        {
            MountSyscalls.Detach(pin);
            try
            {
                Directory.Delete(pin);
            }
            catch (IOException)
            {
                // Still mounted (detach failed): left for the operator rather than removed with what it shows.
            }
        }

        _pins.Clear();
    }
}
