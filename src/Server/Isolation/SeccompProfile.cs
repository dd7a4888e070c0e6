using System.Text.Json.Nodes;

namespace TypedSandbox.Server.Isolation;

/// <summary>
/// The sandbox's seccomp filter in OCI form: deny by default (EPERM), allow the syscalls ordinary programs use, with
/// Docker's default profile as the model (the list of syscall names is the fact taken from it). Syscalls that need a
/// capability the sandbox lacks (mount, ptrace, kernel modules, reboot, bpf, keyrings...) stay denied.
/// </summary>
internal static class SeccompProfile
{
    private const int EPERM = 1, ENOSYS = 38;

    // Namespace-creating clone flags: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET.
    private const long CloneNamespaceFlags = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

    // ptrace and process_vm_* are safe on kernels >= 4.8 (seccomp is re-checked after a tracer changes a syscall) and
    // only reach this sandbox's own dumpable processes (the agent is not dumpable); debuggers and strace need them.
    private static readonly string[] Allowed =
    [
        "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk", "capget", "capset", "chdir", "chmod",
        "chown", "chroot", "clock_adjtime", "clock_getres", "clock_gettime", "clock_nanosleep", "close", "close_range", "connect",
        "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_pwait",
        "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
        "faccessat2", "fadvise64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchownat", "fcntl",
        "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstatfs", "fsync",
        "ftruncate", "futex", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "geteuid",
        "getgid", "getgroups", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
        "getrandom", "getresgid", "getresuid", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname",
        "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getxattr", "inotify_add_watch", "inotify_init",
        "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_setup",
        "io_submit", "ioprio_get", "ioprio_set", "kill", "landlock_add_rule", "landlock_create_ruleset",
        "landlock_restrict_self", "lchown", "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "lremovexattr",
        "lseek", "lsetxattr", "lstat", "madvise", "membarrier", "memfd_create", "mincore", "mkdir", "mkdirat", "mknod",
        "mknodat", "mlock", "mlock2", "mlockall", "mmap", "modify_ldt", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedsend", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
        "munlockall", "munmap", "nanosleep", "newfstatat", "open", "openat", "openat2", "pause", "pidfd_getfd", "pidfd_open",
        "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "prctl", "pread64", "process_vm_readv", "process_vm_writev", "ptrace",
        "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pwrite64", "pwritev", "pwritev2", "read",
        "readahead", "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg", "remap_file_pages", "removexattr",
        "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
        "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo",
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
        "sched_getscheduler", "sched_rr_get_interval", "sched_setaffinity", "sched_setattr", "sched_setparam",
        "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "sendfile",
        "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsuid", "setgid", "setgroups", "setitimer", "setpgid", "setpriority",
        "setregid", "setresgid", "setresuid", "setreuid", "setrlimit", "set_robust_list", "setsid", "setsockopt",
        "set_thread_area", "set_tid_address", "setuid", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
        "sigaltstack", "signalfd", "signalfd4", "socketpair", "splice", "stat", "statfs", "statx", "symlink",
        "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
        "timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create", "timerfd_gettime", "timerfd_settime", "times",
        "tkill", "truncate", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat", "utimes", "vfork", "vmsplice",
        "wait4", "waitid", "write", "writev",
    ];

    // Address families socket(2) may make: Unix, IPv4, IPv6 and netlink (what gVisor's kernel offers). Every other family
    // is kernel code ordinary programs never reach: AF_VSOCK talks to the hypervisor beside this host, AF_ALG is the
    // kernel's crypto API (CVE-2026-31431), and the rarely used families are where socket bugs have been found. Docker
    // and containerd block AF_VSOCK and AF_ALG; this list is shorter. Compared on the low 32 bits, as the kernel reads
    // the int: a domain with high bits set cannot pass as another. socketcall, which would hide the family in memory, is
    // not allowed at all.
    private static readonly long[] AllowedSocketFamilies = [1 /* AF_UNIX */, 2 /* AF_INET */, 10 /* AF_INET6 */, 16 /* AF_NETLINK */];

    // personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26 variants, and the query 0xffffffff.
    private static readonly long[] AllowedPersonalities = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

    // btrfs ioctls (type 0x94) would let sandbox code make a subvolume in a volume, outside its size limit
    // (StorageQuota); the clone ioctls that share the type (cp --reflink) stay allowed.
    private const long BtrfsIoctlType = 0x94;
    private static readonly long[] AllowedBtrfsTypeIoctls = [0x40049409 /* FICLONE */, 0x4020940d /* FICLONERANGE */, 0xc0189436 /* FIDEDUPERANGE */];

    public static JsonObject Build(RuntimeFlavor flavor)
    {
        var syscalls = new JsonArray
        {
            new JsonObject { ["names"] = Names(Allowed), ["action"] = "SCMP_ACT_ALLOW" },
            // clone without namespace flags (threads, fork); new namespaces would need CAP_SYS_ADMIN anyway.
            new JsonObject
            {
                ["names"] = Names(["clone"]),
                ["action"] = "SCMP_ACT_ALLOW",
                ["args"] = new JsonArray { new JsonObject { ["index"] = 0, ["value"] = CloneNamespaceFlags, ["valueTwo"] = 0, ["op"] = "SCMP_CMP_MASKED_EQ" } },
            },
            // clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone. runsc's own
            // kernel answers clone3 itself, and its 2022 build returns the default EPERM instead of errnoRet here, which
            // breaks thread creation, so under runsc clone3 goes to gVisor.
            flavor == RuntimeFlavor.Runsc
                ? new JsonObject { ["names"] = Names(["clone3"]), ["action"] = "SCMP_ACT_ALLOW" }
                : new JsonObject { ["names"] = Names(["clone3"]), ["action"] = "SCMP_ACT_ERRNO", ["errnoRet"] = ENOSYS },
        };
        foreach (var rule in IoctlRules())
        {
            syscalls.Add(rule);
        }

        foreach (var family in AllowedSocketFamilies)
        {
            syscalls.Add(new JsonObject
            {
                ["names"] = Names(["socket"]),
                ["action"] = "SCMP_ACT_ALLOW",
                ["args"] = new JsonArray { new JsonObject { ["index"] = 0, ["value"] = 0xffffffffL, ["valueTwo"] = family, ["op"] = "SCMP_CMP_MASKED_EQ" } },
            });
        }

        foreach (var persona in AllowedPersonalities)
        {
            syscalls.Add(new JsonObject
            {
                ["names"] = Names(["personality"]),
                ["action"] = "SCMP_ACT_ALLOW",
                ["args"] = new JsonArray { new JsonObject { ["index"] = 0, ["value"] = persona, ["op"] = "SCMP_CMP_EQ" } },
            });
        }
        return new JsonObject
        {
            ["defaultAction"] = "SCMP_ACT_ERRNO",
            ["defaultErrnoRet"] = EPERM,
            ["architectures"] = Names(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
            ["syscalls"] = syscalls,
        };
    }

    /// <summary>
    /// ioctl with any type byte (bits 8-15 of the request) but btrfs's: for each bit of that byte, one rule matching
    /// requests that agree with 0x94 above that bit and differ at it (eight rules cover every other type).
    /// </summary>
    private static IEnumerable<JsonObject> IoctlRules()
    {
        for (var bit = 7; bit >= 0; bit--)
        {
            var mask = (0xffL << bit) & 0xff;
            var value = (BtrfsIoctlType ^ (1L << bit)) & mask;
            yield return IoctlRule(mask << 8, value << 8);
        }
        foreach (var request in AllowedBtrfsTypeIoctls)
        {
            yield return IoctlRule(0xffffffff, request);
        }
    }

    private static JsonObject IoctlRule(long mask, long value) => new()
    {
        ["names"] = Names(["ioctl"]),
        ["action"] = "SCMP_ACT_ALLOW",
        ["args"] = new JsonArray { new JsonObject { ["index"] = 1, ["value"] = mask, ["valueTwo"] = value, ["op"] = "SCMP_CMP_MASKED_EQ" } },
    };

    private static JsonArray Names(IEnumerable<string> names) => new([.. names.Select(n => (JsonNode)JsonValue.Create(n))]);
}
