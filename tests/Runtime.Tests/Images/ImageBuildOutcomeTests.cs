using TypedSandbox.Protocol.Client;
using GenericStatus = TypedSandbox.Protocol.Client.GenericResult.Types.GenericStatus;

namespace TypedSandbox.Runtime.Tests.Images;

public sealed class ImageBuildOutcomeTests
{
    [Fact]
    public void Success_is_accepted()
    {
        ImageService.EnsureBuilt("im-1", new GenericResult { Status = GenericStatus.Success });
    }

    [Theory]
    [InlineData((int)GenericStatus.Failure, "Image build for im-1 failed with the exception:\napt-get: not found")]
    [InlineData(8, "Image build for im-1 failed with the exception:\napt-get: not found")]
    [InlineData((int)GenericStatus.Terminated, "Image build for im-1 terminated due to external shut-down. Please try again.")]
    [InlineData((int)GenericStatus.Timeout, "Image build for im-1 timed out. Please try again with a larger timeout parameter.")]
    [InlineData((int)GenericStatus.InternalFailure, "Image build for im-1 failed with unknown status: 6\napt-get: not found")]
    public void Failures_read_like_Modals(int status, string message)
    {
        var error = Assert.Throws<ImageBuildException>(() =>
            ImageService.EnsureBuilt("im-1", new GenericResult { Status = (GenericStatus)status, Exception = "apt-get: not found" }));

        Assert.Equal(message, error.Message);
    }
}
