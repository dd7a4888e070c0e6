using Google.Protobuf.WellKnownTypes;
using TypedSandbox.Protocol.Client;
using TypedSandbox.Server.Sandboxes;

namespace TypedSandbox.Server.Api;

/// <summary>
/// <c>AppFetchLogs</c> / <c>AppCountLogs</c> for sandboxes (what <c>sb.logs.tail</c> and <c>sb.logs.fetch</c> call): the
/// sandbox's system log, found by <c>task_id</c>. Only system lines are kept (entrypoint output is read live through
/// the stdout/stderr streams), so asking for stdout or stderr gives nothing, and so does a request without a task.
/// </summary>
internal static class SandboxLogQueries
{
    public static AppFetchLogsResponse Fetch(SandboxManager sandboxes, AppFetchLogsRequest request, DateTimeOffset now)
    {
        var response = new AppFetchLogsResponse();
        var entries = Select(sandboxes, request.TaskId, request.Source, request.Since, request.Until, request.SearchText, now);
        if (entries.Count == 0)
        {
            return response;
        }
        // A limit keeps the newest entries (tail asks for the last n), still oldest first.
        if (request.Limit > 0 && entries.Count > request.Limit)
        {
            entries = entries.Skip(entries.Count - (int)request.Limit).ToList();
        }

        var batch = new TaskLogsBatch { TaskId = request.TaskId };
        foreach (var entry in entries)
        {
            var unixNanoseconds = (entry.At - DateTimeOffset.UnixEpoch).Ticks * 100;
            batch.Items.Add(new TaskLogs
            {
                Data = entry.Text + "\n",
                FileDescriptor = FileDescriptor.Info,
                Timestamp = unixNanoseconds / 1e9,
                TimestampNs = (ulong)unixNanoseconds,
            });
        }
        response.Batches.Add(batch);
        return response;
    }

    public static AppCountLogsResponse Count(SandboxManager sandboxes, AppCountLogsRequest request, DateTimeOffset now)
    {
        var response = new AppCountLogsResponse { AppId = request.AppId };
        var bucketSeconds = Math.Max(request.BucketSecs, 1u);
        var entries = Select(sandboxes, request.TaskId, request.Source, request.Since, request.Until, request.SearchText, now);
        // Buckets aligned to multiples of their size since the epoch; only non-empty ones are sent.
        foreach (var bucket in entries.GroupBy(e => e.At.ToUnixTimeSeconds() / bucketSeconds * bucketSeconds).OrderBy(g => g.Key))
        {
            response.Buckets.Add(new AppCountLogsResponse.Types.LogBucket
            {
                BucketStartAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeSeconds(bucket.Key)),
                SystemLogs = (ulong)bucket.LongCount(),
            });
        }
        return response;
    }

    private static List<SandboxLogEntry> Select(
        SandboxManager sandboxes, string taskId, FileDescriptor source, Timestamp? since, Timestamp? until, string searchText, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(taskId) || source is FileDescriptor.Stdout or FileDescriptor.Stderr)
        {
            return [];
        }

        if (sandboxes.Catalog.TryGetByTaskId(taskId) is not { } session)
        {
            return [];
        }

        var from = since?.ToDateTimeOffset() ?? DateTimeOffset.MinValue;
        var to = until?.ToDateTimeOffset() ?? now;
        return [.. session.Log.Read(from, to, searchText)];
    }
}
