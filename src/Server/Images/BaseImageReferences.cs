namespace TypedSandbox.Server.Images;

/// <summary>
/// Image layers the SDKs build on each other: a later layer's Dockerfile says <c>FROM base</c> and names the previous
/// layer's image in its base images; the build needs that image's id in the FROM line.
/// </summary>
internal static class BaseImageReferences
{
    /// <summary>The Dockerfile commands with a <c>FROM &lt;tag&gt;</c> of a listed base image rewritten to its image id.</summary>
    public static List<string> Resolve(IEnumerable<string> dockerfileCommands, IEnumerable<(string DockerTag, string ImageId)> baseImages)
    {
        var commands = dockerfileCommands.ToList();
        if (commands.Count == 0)
        {
            return commands;
        }

        var first = commands[0].Trim();
        foreach (var (dockerTag, imageId) in baseImages)
        {
            if (string.Equals(first, "FROM " + dockerTag, StringComparison.OrdinalIgnoreCase))
            {
                commands[0] = "FROM " + imageId;
            }
        }

        return commands;
    }
}
