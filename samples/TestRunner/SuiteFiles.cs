namespace TypedSandbox.Samples;

/// <summary>The small Python project the sample writes into the sandbox: a module and its tests.</summary>
internal static class SuiteFiles
{
    public const string Directory = "/srv/project";

    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>
    {
        ["calc.py"] = """
            def add(a, b):
                return a + b


            def mean(values):
                if not values:
                    raise ValueError("mean of an empty list")
                return sum(values) / len(values)
            """,
        ["test_calc.py"] = """
            import pytest

            from calc import add, mean


            @pytest.mark.parametrize("a, b, expected", [(1, 2, 3), (-1, 1, 0), (0.5, 0.25, 0.75)])
            def test_add(a, b, expected):
                assert add(a, b) == expected


            def test_mean():
                assert mean([1, 2, 3, 4]) == 2.5


            def test_mean_of_nothing_is_an_error():
                with pytest.raises(ValueError):
                    mean([])
            """,
    };
}
