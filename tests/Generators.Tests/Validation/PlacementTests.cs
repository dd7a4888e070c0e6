using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Tests.Validation;

public class PlacementTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("aws")]
    [InlineData("gcp")]
    [InlineData("oci")]
    [InlineData("auto")]
    public void CheckCloud_accepts_Modals_providers(string? cloud) => Assert.Null(Placement.CheckCloud(cloud));

    [Fact]
    public void CheckCloud_refuses_an_unknown_provider_naming_the_known_ones() =>
        Assert.Equal("Unknown cloud provider 'azure-ish'; use one of aws, gcp, oci, auto", Placement.CheckCloud("azure-ish"));

    [Theory]
    [InlineData("us")]
    [InlineData("us-east")]
    [InlineData("ap-northeast")]
    [InlineData("us-east-1")]
    [InlineData("us-gov-west-1")]
    [InlineData("us-central1")]
    [InlineData("us-ashburn-1")]
    public void CheckRegions_accepts_Modal_and_cloud_region_names(string region) => Assert.Null(Placement.CheckRegions([region]));

    [Theory]
    [InlineData("moon-base")]
    [InlineData("US-EAST")]
    [InlineData("")]
    [InlineData("us east")]
    public void CheckRegions_refuses_names_Modal_does_not_know(string region) =>
        Assert.StartsWith($"Unknown region '{region}'", Placement.CheckRegions(["us", region]), StringComparison.Ordinal);
}
