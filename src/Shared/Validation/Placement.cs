using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace TypedSandbox.Validation;

/// <summary>
/// Modal's placement settings, <c>cloud</c> and <c>regions</c>. The local engine runs every sandbox on this machine,
/// so it accepts Modal's names and ignores them; a name Modal does not know is refused, as Modal refuses it.
/// </summary>
internal static class Placement
{
    /// <summary>The cloud providers Modal names (its <c>CloudProvider</c> values).</summary>
    public static IReadOnlyList<string> Clouds { get; } = ["aws", "gcp", "oci", "auto"];

    /// <summary>Modal's broad and narrow region codes (its region-selection guide).</summary>
    public static IReadOnlyList<string> Regions { get; } =
    [
        "us", "eu", "uk", "ap", "jp", "ca", "au", "me", "sa", "mx",
        "us-east", "us-central", "us-west", "us-south",
        "eu-west", "eu-north", "eu-central", "eu-south",
        "ap-northeast", "ap-southeast", "ap-south", "ap-melbourne",
        "ca-east", "ca-central", "ca-west", "sa-east", "me-central",
    ];

    // Cloud-specific region names, which Modal also takes: AWS/OCI "us-east-1", "us-ashburn-1"; GCP "us-central1".
    private static readonly Regex CloudRegion = new(
        "^(?:[a-z]{2}(?:-gov)?-[a-z]+-[0-9]{1,2}|[a-z]+-[a-z]+[0-9]{1,2})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>Checks a cloud provider name; empty means "let Modal pick".</summary>
    /// <returns><see langword="null"/> when valid, otherwise a message naming the accepted values.</returns>
    public static string? CheckCloud(string? cloud) =>
        string.IsNullOrEmpty(cloud) || Clouds.Contains(cloud, StringComparer.OrdinalIgnoreCase)
            ? null
            : $"Unknown cloud provider '{cloud}'; use one of {string.Join(", ", Clouds)}";

    /// <summary>Checks each region name.</summary>
    /// <returns><see langword="null"/> when every name is valid, otherwise a message naming the first unknown one.</returns>
    public static string? CheckRegions(IEnumerable<string>? regions)
    {
        foreach (var region in regions ?? [])
        {
            if (!Regions.Contains(region, StringComparer.Ordinal) && !CloudRegion.IsMatch(region ?? ""))
            {
                return $"Unknown region '{region}'; use a Modal region such as {string.Join(", ", Regions.Take(6))} " +
                    "or a cloud region such as us-east-1 or us-central1";
            }
        }

        return null;
    }
}
