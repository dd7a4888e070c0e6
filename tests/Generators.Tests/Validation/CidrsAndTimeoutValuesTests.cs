using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Tests.Validation;

public class CidrsAndTimeoutValuesTests
{
    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("192.168.1.7/32")]
    [InlineData("0.0.0.0/0")]
    [InlineData("fd00::/8")]
    [InlineData("::1/128")]
    public void Check_accepts_CIDR_ranges(string cidr) => Assert.Null(Cidrs.Check(cidr));

    [Theory]
    [InlineData("10.0.0.0")]
    [InlineData("10.1/8")]
    [InlineData("10.0.0.0/33")]
    [InlineData("fd00::/129")]
    [InlineData("not-a-cidr")]
    [InlineData("/8")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("")]
    public void Check_rejects_with_Modals_message(string cidr) => Assert.Equal("Invalid CIDR: " + cidr, Cidrs.Check(cidr));

    [Theory]
    [InlineData(0, "Timeout '0s' is zero")]
    [InlineData(-60, "Timeout '-1m' is negative")]
    [InlineData(90_001, "Timeout '25h1s' is longer than the maximum of 24 hours")]
    public void A_timeout_value_gets_the_message_of_its_canonical_text(int seconds, string start)
    {
        var value = Durations.CheckTimeout(TimeSpan.FromSeconds(seconds), "Timeout");
        var text = Durations.CheckTimeout(Durations.Format(TimeSpan.FromSeconds(seconds)), "Timeout", out _);

        Assert.StartsWith(start + ";", value, StringComparison.Ordinal);
        Assert.Equal(text, value);
    }

    [Fact]
    public void A_timeout_value_must_be_whole_seconds()
    {
        Assert.Equal(
            "Exec timeout '00:00:01.5000000' is not a whole number of seconds; use a duration greater than zero and at most 24h, such as '90s', '10m' or '1h30m'",
            Durations.CheckTimeout(TimeSpan.FromMilliseconds(1500), "Exec timeout"));
        Assert.Null(Durations.CheckTimeout(Limits.MaxTimeout, "Timeout"));
    }

    [Fact]
    public void An_unset_timeout_is_no_problem_and_has_no_value()
    {
        Assert.Null(default(TimeoutSetting).Check("Timeout", out var value));
        Assert.Null(value);
        Assert.Null(TimeoutSetting.FromText("1m30s").Check("Timeout", out value));
        Assert.Equal(TimeSpan.FromSeconds(90), value);
    }
}
