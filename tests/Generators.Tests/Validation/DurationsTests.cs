using TypedSandbox.Validation;

namespace TypedSandbox.Generators.Tests.Validation;

public class DurationsTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("1h2m3s", 3723)]
    [InlineData("0s", 0)]
    [InlineData("-5m", -300)]
    public void TryParse_reads_hours_minutes_and_seconds(string text, int seconds)
    {
        Assert.True(Durations.TryParse(text, out var value, out var error));
        Assert.Null(error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("10", "ends without a unit")]
    [InlineData("10 m", "unit ' '")]
    [InlineData("10min", "'i' where a number belongs")]
    [InlineData("5d", "unit 'd'")]
    [InlineData("30m1h", "repeats or reorders units")]
    [InlineData("1m1m", "repeats or reorders units")]
    [InlineData("m", "'m' where a number belongs")]
    [InlineData("1234567890s", "number too large")]
    [InlineData("-", "has no value")]
    public void TryParse_rejects_other_text_and_says_why(string text, string reason)
    {
        Assert.False(Durations.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Contains("such as '90s', '10m' or '1h30m'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0s", "is zero")]
    [InlineData("-5m", "is negative")]
    [InlineData("25h", "is longer than the maximum of 24 hours")]
    [InlineData("24h1s", "is longer than the maximum of 24 hours")]
    [InlineData("ten", "is not a duration")]
    public void CheckTimeout_rejects_zero_negative_too_long_and_unparsable(string text, string reason)
    {
        var error = Durations.CheckTimeout(text, "Timeout", out _);
        Assert.Equal($"Timeout '{text}' {reason}; use a duration greater than zero and at most 24h, such as '90s', '10m' or '1h30m'", error);
    }

    [Theory]
    [InlineData("1s")]
    [InlineData("24h")]
    [InlineData("23h59m59s")]
    public void CheckTimeout_accepts_one_second_to_24_hours(string text) =>
        Assert.Null(Durations.CheckTimeout(text, "Timeout", out _));

    [Theory]
    [InlineData(90, "1m30s")]
    [InlineData(600, "10m")]
    [InlineData(5400, "1h30m")]
    [InlineData(3601, "1h1s")]
    [InlineData(0, "0s")]
    [InlineData(-60, "-1m")]
    public void Format_writes_the_canonical_form(int seconds, string expected) =>
        Assert.Equal(expected, Durations.Format(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData("10m", true)]
    [InlineData("90s", false)]
    [InlineData("0h10m", false)]
    [InlineData("010m", false)]
    [InlineData("60m", false)]
    public void IsCanonical_compares_with_the_formatted_value(string text, bool canonical) =>
        Assert.Equal(canonical, Durations.IsCanonical(text));

    [Theory]
    [InlineData("10 min", 600)]
    [InlineData("1H 30M", 5400)]
    [InlineData("2 hours", 7200)]
    [InlineData("600", 600)]
    [InlineData("1d", 86400)]
    [InlineData("1 hour, 5 minutes", 3900)]
    public void TryParseLenient_reads_what_people_write(string text, int seconds)
    {
        Assert.True(Durations.TryParseLenient(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("10 fortnights")]
    [InlineData("")]
    [InlineData("5m10")]
    public void TryParseLenient_gives_up_on_nonsense(string text) =>
        Assert.False(Durations.TryParseLenient(text, out _));
}
