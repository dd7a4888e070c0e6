using TypedSandbox.Generators.CodeFixes;

namespace TypedSandbox.Generators.Tests.Analyzers;

public class CodeFixTests
{
    [Fact]
    public Task Adds_partial_to_a_class() => Verify.CodeFixAsync<MakePartialCodeFix>(
        """
        [Sandbox]
        public sealed class {|TSB0001:Runner|}
        {
        }
        """,
        """
        [Sandbox]
        public sealed partial class Runner
        {
        }
        """);

    [Fact]
    public Task Adds_partial_to_a_class_without_modifiers() => Verify.CodeFixAsync<MakePartialCodeFix>(
        """
        [Sandbox]
        class {|TSB0001:Runner|}
        {
        }
        """,
        """
        [Sandbox]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task Adds_partial_to_a_method() => Verify.CodeFixAsync<MakePartialCodeFix>(
        """
        [Sandbox]
        partial class Runner
        {
            [Command("pytest", "{path}")]
            public Task<ExecResult> {|TSB0002:TestAsync|}(string path);
        }
        """,
        """
        [Sandbox]
        partial class Runner
        {
            [Command("pytest", "{path}")]
            public partial Task<ExecResult> TestAsync(string path);
        }
        """);

    [Fact]
    public Task Rewrites_a_timeout_into_canonical_form() => Verify.CodeFixAsync<CanonicalTimeoutCodeFix>(
        """
        [Sandbox(Timeout = {|TSB0005:"90s"|})]
        partial class Runner
        {
        }
        """,
        """
        [Sandbox(Timeout = "1m30s")]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task Rewrites_an_unparsable_timeout_whose_meaning_is_clear() => Verify.CodeFixAsync<CanonicalTimeoutCodeFix>(
        """
        [Sandbox(Timeout = {|TSB0004:"1 hour 30 min"|})]
        partial class Runner
        {
            [Command("true", Timeout = {|TSB0004:"10 MIN"|})]
            public partial Task<int> PingAsync();
        }
        """,
        """
        [Sandbox(Timeout = "1h30m")]
        partial class Runner
        {
            [Command("true", Timeout = "10m")]
            public partial Task<int> PingAsync();
        }
        """,
        fixes: 2);

    [Fact]
    public Task Offers_no_rewrite_for_an_out_of_range_timeout() => Verify.NoCodeFixAsync<CanonicalTimeoutCodeFix>("""
        [Sandbox(Timeout = {|TSB0004:"2 days"|})]
        partial class Runner
        {
            [Command("true", Timeout = {|TSB0004:"soon"|})]
            public partial Task<int> PingAsync();
        }
        """);

    [Fact]
    public Task Removes_a_duplicate_tag() => Verify.CodeFixAsync<RemoveDuplicateCodeFix>(
        """
        [Sandbox]
        [Tag("team", "ml")]
        [Tag({|TSB0009:"team"|}, "infra")]
        partial class Runner
        {
        }
        """,
        """
        [Sandbox]
        [Tag("team", "ml")]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task Removes_a_duplicate_volume_from_a_shared_attribute_list() => Verify.CodeFixAsync<RemoveDuplicateCodeFix>(
        """
        [Sandbox]
        [Volume("/data", "a"), Volume({|TSB0011:"/data"|}, "b")]
        partial class Runner
        {
        }
        """,
        """
        [Sandbox]
        [Volume("/data", "a")]
        partial class Runner
        {
        }
        """);

    [Fact]
    public Task Splits_a_whole_command_line_into_arguments() => Verify.CodeFixAsync<SplitProgramCodeFix>(
        """
        [Sandbox]
        partial class Runner
        {
            [Command({|TSB0024:"ls  -la"|}, "{dir}")]
            public partial Task<int> ListAsync(string dir);

            [Command(new[] { {|TSB0024:"cat -n"|} })]
            public partial Task<int> CatAsync();
        }
        """,
        """
        [Sandbox]
        partial class Runner
        {
            [Command("ls", "-la", "{dir}")]
            public partial Task<int> ListAsync(string dir);

            [Command(new[] { "cat", "-n" })]
            public partial Task<int> CatAsync();
        }
        """,
        fixes: 2);
}
