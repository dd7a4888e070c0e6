using TypedSandbox.Server.Images;

namespace TypedSandbox.Server.Tests.Images;

/// <summary>
/// Mount destinations resolved in an image's layers as overlayfs merges them: the top layer's entry wins, a whiteout
/// hides a lower one, an opaque directory hides everything below it. Needs root (whiteout devices, trusted xattrs).
/// </summary>
public sealed class ImagePathsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "image-paths-" + Guid.NewGuid().ToString("N")[..8]);

    public ImagePathsTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Absolute_and_relative_links_are_followed_inside_the_image()
    {
        var lower = Layer("lower");
        Directory.CreateDirectory(Path.Combine(lower, "srv", "a"));
        File.CreateSymbolicLink(Path.Combine(lower, "data"), "/proc");
        File.CreateSymbolicLink(Path.Combine(lower, "srv", "a", "up"), "../../dev/../sys/fs");

        Assert.Equal("/proc", ImagePaths.Resolve([lower], "/data"));
        Assert.Equal("/proc/self", ImagePaths.Resolve([lower], "/data/self"));
        Assert.Equal("/sys/fs/cgroup", ImagePaths.Resolve([lower], "/srv/a/up/cgroup"));
        Assert.Equal("/missing/x", ImagePaths.Resolve([lower], "/missing/x"));
    }

    [Fact]
    public void An_upper_layers_entry_whiteout_or_opaque_directory_hides_a_lower_link()
    {
        var lower = Layer("lower");
        Directory.CreateDirectory(Path.Combine(lower, "opt"));
        File.CreateSymbolicLink(Path.Combine(lower, "data"), "/proc");
        File.CreateSymbolicLink(Path.Combine(lower, "gone"), "/proc");
        File.CreateSymbolicLink(Path.Combine(lower, "opt", "link"), "/sys");
        var upper = Layer("upper");
        Directory.CreateDirectory(Path.Combine(upper, "data"));
        NativeFileSystem.MakeCharDevice(Path.Combine(upper, "gone"), 0, 0, 0);
        Directory.CreateDirectory(Path.Combine(upper, "opt"));
        NativeFileSystem.SetXattr(Path.Combine(upper, "opt"), "trusted.overlay.opaque", "y"u8.ToArray());

        Assert.Equal("/data", ImagePaths.Resolve([upper, lower], "/data"));
        Assert.Equal("/gone", ImagePaths.Resolve([upper, lower], "/gone"));
        Assert.Equal("/opt/link", ImagePaths.Resolve([upper, lower], "/opt/link"));
        Assert.Equal("/sys", ImagePaths.Resolve([lower], "/opt/link"));
    }

    [Fact]
    public void A_link_in_a_directory_an_upper_layer_replaced_with_a_link_is_not_seen()
    {
        var lower = Layer("lower");
        Directory.CreateDirectory(Path.Combine(lower, "app"));
        File.CreateSymbolicLink(Path.Combine(lower, "app", "data"), "/proc");
        var upper = Layer("upper");
        Directory.CreateDirectory(Path.Combine(upper, "elsewhere"));
        File.CreateSymbolicLink(Path.Combine(upper, "app"), "/elsewhere");

        Assert.Equal("/elsewhere/data", ImagePaths.Resolve([upper, lower], "/app/data"));
    }

    [Fact]
    public void Looping_links_resolve_to_nothing()
    {
        var lower = Layer("lower");
        File.CreateSymbolicLink(Path.Combine(lower, "a"), "/b");
        File.CreateSymbolicLink(Path.Combine(lower, "b"), "a");

        Assert.Null(ImagePaths.Resolve([lower], "/a/x"));
    }

    private string Layer(string name)
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        return path;
    }
}
