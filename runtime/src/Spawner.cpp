#include "gov/runtime/Spawner.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "gov/runtime/Namespaces.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef IOPRIO_WHO_PROCESS
#define IOPRIO_WHO_PROCESS 1
#endif

namespace gov::runtime {

ProcessSpawner::~ProcessSpawner() = default;

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// What the child was doing when it failed; sent with errno through the error pipe.
enum class Step : int {
    Sync = 1,
    Setsid,
    MountPrivate,
    MountProc,
    Loopback,
    Stdio,
    OomScoreAdj,
    LoginUid,
    Nice,
    IoPriority,
    Scheduler,
    Rlimit,
    Bounding,
    KeepCaps,
    Setgroups,
    Setgid,
    Setuid,
    Capabilities,
    Ambient,
    NoNewPrivs,
    Chdir,
    Exec,
};

struct ChildFailure {
    Step step;
    int err;
    int detail;  // the rlimit resource or capability number, where it applies
};

const char* stepName(Step s) {
    switch (s) {
        case Step::Sync:
            return "wait for parent";
        case Step::Setsid:
            return "setsid";
        case Step::MountPrivate:
            return "make / private in the mount namespace";
        case Step::MountProc:
            return "mount /proc";
        case Step::Loopback:
            return "bring up lo";
        case Step::Stdio:
            return "set up stdio";
        case Step::OomScoreAdj:
            return "set oom_score_adj";
        case Step::LoginUid:
            return "set the audit loginuid";
        case Step::Nice:
            return "set the nice value";
        case Step::IoPriority:
            return "set the io priority";
        case Step::Scheduler:
            return "set the scheduling policy";
        case Step::Rlimit:
            return "set rlimit";
        case Step::Bounding:
            return "drop from the capability bounding set capability";
        case Step::KeepCaps:
            return "keep capabilities across the uid change";
        case Step::Setgroups:
            return "setgroups";
        case Step::Setgid:
            return "setgid";
        case Step::Setuid:
            return "setuid";
        case Step::Capabilities:
            return "set the capability sets";
        case Step::Ambient:
            return "raise ambient capability";
        case Step::NoNewPrivs:
            return "set no_new_privs";
        case Step::Chdir:
            return "chdir";
        case Step::Exec:
            return "exec";
    }
    return "?";
}

// Everything the child needs, prepared by the parent: the child must not allocate
// (it shares our heap, or has a copy whose locks another parent thread may hold)
// nor call libc functions that are not async-signal-safe.
struct ChildPlan {
    // The command as given (argv[0]); resolved in the child (see resolveInChild).
    const char* command = nullptr;
    // The PATH to search when `command` has no '/'.
    const char* searchPath = nullptr;
    // What execve runs: argv[0] of `argv` (the command itself, or the pid
    // namespace's init, whose argv[1] is then set to the resolved command).
    char** argv = nullptr;
    bool viaInit = false;
    char* const* envp = nullptr;
    int errFd = -1;
    int syncFd = -1;  // read end; -1 when the child need not wait
    int stdio[3] = {-1, -1, -1};
    const char* cwd = nullptr;
    bool newSession = false;
    bool freshProc = false;
    bool loopbackUp = false;
    bool setCreds = false;
    bool hasUid = false;
    bool hasGid = false;
    uid_t uid = 0;
    gid_t gid = 0;
    const gid_t* groups = nullptr;
    size_t nGroups = 0;
    bool controllingTerminal = false;
    // Inherited attributes (SpawnRequest::attributes).
    bool applyAttributes = false;
    bool processLimitsByParent = false;  // rlimits, nice, io priority, scheduler, oom
    ProcessAttributes attributes;
    bool writeLoginUid = false;
    char loginUid[16] = {};  // decimal, NUL-terminated
    char oomScoreAdj[16] = {};
    int schedPolicy = -1;  // -1: leave ours
    uint64_t boundingDrop = 0;
    struct __user_cap_data_struct caps[2] = {};
    uint64_t ambient = 0;
};

[[noreturn]] void childFail(const ChildPlan& plan, Step step, int err, int detail = 0) {
    ChildFailure f{step, err, detail};
    // Best effort: if even this fails the parent sees EOF and a dead child.
    ssize_t ignored = ::write(plan.errFd, &f, sizeof f);
    (void)ignored;
    ::_exit(127);
}

// open + write + close of a /proc/self file, with raw syscalls.
int writeSelfFile(const char* path, const char* value) {
    const int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC));
    if (fd < 0)
        return errno;
    const size_t len = std::strlen(value);
    const long n = ::syscall(SYS_write, fd, value, len);
    const int err = n < 0 ? errno : (static_cast<size_t>(n) != len ? EIO : 0);
    ::syscall(SYS_close, fd);
    return err;
}

// The parts of execvpe's search that decide which file runs, with raw syscalls
// and no allocation: 0 when `path` is a regular file we may execute, else the
// errno (EACCES for a file that is not executable).
int executable(const char* path) {
    struct stat st {};
    if (::syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0)
        return errno;
    if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0)
        return EACCES;
    if (::syscall(SYS_faccessat, AT_FDCWD, path, X_OK) != 0)
        return errno;
    return 0;
}

// execvpe's search, in the child after it has become the caller and entered its
// cwd: a file the caller may not see fails the same way whether it exists or not
// (EACCES on the directory), so the answer tells nothing more than the caller
// could find out alone. Returns the path to exec (`buf` holds it when searched),
// or nullptr with `err` set: ENOENT when nothing was found, EACCES when a
// candidate was there but not executable.
const char* resolveInChild(const ChildPlan& plan, char* buf, size_t size, int& err) {
    const char* cmd = plan.command;
    if (std::strchr(cmd, '/') != nullptr) {
        err = executable(cmd);
        return err == 0 ? cmd : nullptr;
    }
    const size_t cmdLen = std::strlen(cmd);
    bool sawEacces = false;
    const char* p = plan.searchPath;
    for (;;) {
        const char* end = std::strchr(p, ':');
        if (end == nullptr)
            end = p + std::strlen(p);
        size_t dirLen = static_cast<size_t>(end - p);
        const char* dir = p;
        if (dirLen == 0) {  // POSIX: an empty entry is the cwd
            dir = ".";
            dirLen = 1;
        }
        if (dirLen + 1 + cmdLen + 1 <= size) {
            std::memcpy(buf, dir, dirLen);
            buf[dirLen] = '/';
            std::memcpy(buf + dirLen + 1, cmd, cmdLen + 1);
            const int e = executable(buf);
            if (e == 0)
                return buf;
            if (e == EACCES)
                sawEacces = true;
        }
        if (*end == '\0')
            break;
        p = end + 1;
    }
    err = sawEacces ? EACCES : ENOENT;
    return nullptr;
}

// An rlimit as close to `want` as we may set: `want` itself, or, when raising our
// hard limit is not allowed (no CAP_SYS_RESOURCE, as for the root of some
// containers), each value no higher than ours. Never more than the caller.
// `pid` 0 is the calling process.
int setLimit(pid_t pid, int resource, const struct rlimit& want) {
    if (::syscall(SYS_prlimit64, pid, resource, &want, nullptr) == 0)
        return 0;
    if (errno != EPERM)
        return errno;
    struct rlimit ours {};
    if (::syscall(SYS_prlimit64, pid, resource, nullptr, &ours) != 0)
        return errno;
    struct rlimit lower = want;
    if (lower.rlim_max > ours.rlim_max)
        lower.rlim_max = ours.rlim_max;
    if (lower.rlim_cur > lower.rlim_max)
        lower.rlim_cur = lower.rlim_max;
    return ::syscall(SYS_prlimit64, pid, resource, &lower, nullptr) == 0 ? 0 : errno;
}

// The attributes that need privilege (raising a limit, lowering nice or
// oom_score_adj, a real-time io class): applied while we are still root. What we
// may not set (we lack the capability) stays ours only where ours gives less than
// the caller's value would: a lower nice, oom_score_adj or real-time io class the
// caller has and we cannot grant is not granted.
void applyProcessLimits(const ChildPlan& plan) {
    const ProcessAttributes& a = plan.attributes;
    if (int e = writeSelfFile("/proc/self/oom_score_adj", plan.oomScoreAdj);
        e != 0 && e != EACCES && e != EPERM)
        childFail(plan, Step::OomScoreAdj, e);
    if (::syscall(SYS_setpriority, PRIO_PROCESS, 0, a.nice) != 0 && errno != EACCES &&
        errno != EPERM)
        childFail(plan, Step::Nice, errno);
    if (::syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, a.ioPriority) != 0 && errno != EPERM)
        childFail(plan, Step::IoPriority, errno);
    if (plan.schedPolicy >= 0) {
        struct sched_param param {};
        if (::syscall(SYS_sched_setscheduler, 0, plan.schedPolicy, &param) != 0)
            childFail(plan, Step::Scheduler, errno);
    }
    for (int r = 0; r < kResourceLimits; ++r) {
        if (int e = setLimit(0, r, a.limits[static_cast<size_t>(r)]); e != 0)
            childFail(plan, Step::Rlimit, e, r);
    }
}

void applyBeforeCredentials(const ChildPlan& plan) {
    if (!plan.processLimitsByParent)
        applyProcessLimits(plan);
    if (plan.writeLoginUid) {
        // The kernel gives the child a new audit session id with it.
        if (int e = writeSelfFile("/proc/self/loginuid", plan.loginUid); e != 0)
            childFail(plan, Step::LoginUid, e);
    }
    ::syscall(SYS_umask, plan.attributes.umask);
    for (int cap = 0; cap < 64; ++cap) {
        if ((plan.boundingDrop >> cap) & 1) {
            if (::syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
                childFail(plan, Step::Bounding, errno, cap);
        }
    }
    // Permitted capabilities survive the uid change, so that the sets can then be
    // made exactly the caller's (an unprivileged caller may hold some: ambient).
    if (plan.setCreds && ::syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        childFail(plan, Step::KeepCaps, errno);
}

void applyAfterCredentials(const ChildPlan& plan) {
    struct __user_cap_header_struct header {};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    if (::syscall(SYS_capset, &header, plan.caps) != 0)
        childFail(plan, Step::Capabilities, errno);
    for (int cap = 0; cap < 64; ++cap) {
        if ((plan.ambient >> cap) & 1) {
            if (::syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
                childFail(plan, Step::Ambient, errno, cap);
        }
    }
    if (plan.setCreds)
        ::syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (plan.attributes.noNewPrivs && ::syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        childFail(plan, Step::NoNewPrivs, errno);
}

// Runs in the child between clone and exec. Credentials are changed with raw
// syscalls: glibc's setuid() & co. broadcast the change to every thread of the
// process (setxid), and the child has only a copy of the parent's thread list —
// it would wait forever for threads that do not exist in it.
[[noreturn]] void childMain(const ChildPlan& plan) {
    // Handlers installed by the parent must not run in the child: reset every
    // disposition before anything can unblock signals.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        ::sigaction(sig, &dfl, nullptr);  // EINVAL for SIGKILL/SIGSTOP/internal: fine
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    if (plan.syncFd >= 0) {
        // The parent writes uid/gid maps or cgroup.procs first, then one byte.
        char b = 0;
        ssize_t n;
        do {
            n = ::read(plan.syncFd, &b, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) {
            childFail(plan, Step::Sync, n < 0 ? errno : EPIPE);
        }
    }
    if (plan.newSession && ::setsid() < 0) {
        childFail(plan, Step::Setsid, errno);
    }
    if (plan.freshProc) {
        // Without MS_PRIVATE the new /proc would propagate back into the host's mount
        // namespace through shared mounts (systemd makes / shared).
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            childFail(plan, Step::MountPrivate, errno);
        }
        if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
            childFail(plan, Step::MountProc, errno);
        }
    }
    if (plan.loopbackUp) {
        // A new net namespace has only lo, and it is down: 127.0.0.1 would not work.
        int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            childFail(plan, Step::Loopback, errno);
        }
        struct ifreq ifr {};
        std::memcpy(ifr.ifr_name, "lo", 3);
        if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
            childFail(plan, Step::Loopback, errno);
        }
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
        if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
            childFail(plan, Step::Loopback, errno);
        }
        ::close(s);
    }
    // Stdio first: a low RLIMIT_NOFILE of the caller must not stop the dups. Move
    // the requested fds above 2 first, so that e.g. stdout=0 is not clobbered by
    // the stdin dup2; dup2 onto 0..2 then clears close-on-exec on the targets.
    int moved[3] = {-1, -1, -1};
    for (int i = 0; i < 3; ++i) {
        if (plan.stdio[i] >= 0) {
            moved[i] = ::fcntl(plan.stdio[i], F_DUPFD_CLOEXEC, 3);
            if (moved[i] < 0) {
                childFail(plan, Step::Stdio, errno);
            }
        }
    }
    for (int i = 0; i < 3; ++i) {
        if (moved[i] >= 0 && ::dup2(moved[i], i) < 0) {
            childFail(plan, Step::Stdio, errno);
        }
    }
    if (plan.applyAttributes)
        applyBeforeCredentials(plan);
    if (plan.setCreds) {
        // Order matters: groups and gid need the privilege that setuid drops.
        if (::syscall(SYS_setgroups, plan.nGroups, plan.groups) != 0) {
            childFail(plan, Step::Setgroups, errno);
        }
        if (plan.hasGid && ::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) {
            childFail(plan, Step::Setgid, errno);
        }
        if (plan.hasUid && ::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
            childFail(plan, Step::Setuid, errno);
        }
    }
    if (plan.applyAttributes)
        applyAfterCredentials(plan);
    if (plan.controllingTerminal) {
        // Never steals (argument 0): a terminal that is another session's stays
        // theirs, and the workload runs without one, as before.
        (void)::ioctl(0, TIOCSCTTY, 0);
    }
    if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) {
        childFail(plan, Step::Chdir, errno);
    }
    char resolvedBuf[4096];
    int err = 0;
    const char* resolved = resolveInChild(plan, resolvedBuf, sizeof resolvedBuf, err);
    if (resolved == nullptr) {
        childFail(plan, Step::Exec, err);
    }
    // The argv array is ours (a copy) or the suspended parent's, which it frees
    // only after we have exec'd.
    if (plan.viaInit) {
        plan.argv[1] = const_cast<char*>(resolved);
    }
    // Descriptors the daemon leaked without O_CLOEXEC must not reach the workload.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(plan.viaInit ? plan.argv[0] : resolved, plan.argv, plan.envp);
    childFail(plan, Step::Exec, errno);
}

std::vector<char*> cStrings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) {
        out.push_back(const_cast<char*>(s.c_str()));
    }
    out.push_back(nullptr);
    return out;
}

Result<void> writeProcFile(const std::string& path, const std::string& value) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return Error::fromErrno("write " + path);
    }
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    if (n < 0) {
        return Error::fromErrno("write " + path);
    }
    if (static_cast<size_t>(n) != value.size()) {
        return Error::withReason("write " + path, "short write", std::errc::io_error);
    }
    return success();
}

// "inside outside 1" lines mapping each id to itself.
template <typename Id>
std::string identityMap(Id a, std::optional<Id> b) {
    std::string out = std::to_string(a) + " " + std::to_string(a) + " 1\n";
    if (b && *b != a) {
        out += std::to_string(*b) + " " + std::to_string(*b) + " 1\n";
    }
    return out;
}

Result<void> writeIdMaps(pid_t pid, const SpawnRequest& req) {
    const std::string base = "/proc/" + std::to_string(pid);
    GOV_TRY(writeProcFile(base + "/uid_map", identityMap<uid_t>(::geteuid(), req.uid)));
    GOV_TRY(writeProcFile(base + "/gid_map", identityMap<gid_t>(::getegid(), req.gid)));
    return success();
}

void killAndReap(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

// Blocks every signal for its lifetime, so that no parent handler can run in the
// child before it has reset the dispositions.
class SignalBlock {
  public:
    SignalBlock() {
        sigset_t all;
        sigfillset(&all);
        ::pthread_sigmask(SIG_SETMASK, &all, &old_);
    }
    ~SignalBlock() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
    SignalBlock(const SignalBlock&) = delete;
    SignalBlock& operator=(const SignalBlock&) = delete;

  private:
    sigset_t old_;
};

int childEntry(void* plan) {
    childMain(*static_cast<const ChildPlan*>(plan));
}

#if defined(__x86_64__)
// clone3 for a child that shares our memory (CLONE_VM, with CLONE_VFORK so that
// we are suspended until it has exec'd or exited): like glibc's posix_spawn, it
// spares copying the daemon's page tables and the copy-on-write faults after it,
// most of what a spawn cost (bench/exec). The child starts on `args->stack` and
// cannot return into our frames, so it is started here in assembly: it calls
// entry(arg) on its own stack and exits with what that returns (childMain never
// returns: it execs or _exits). Returns the pid, or -errno. rcx and r11 are
// clobbered by syscall; entry and arg ride in callee-saved registers, which the
// kernel hands to the child unchanged.
constexpr bool kSharedMemoryClone = true;
long clone3SharedMemory(clone_args* args, int (*entry)(void*), void* arg) {
    long ret;
    register int (*fn)(void*) asm("r12") = entry;
    register void* fnArg asm("r13") = arg;
    asm volatile(
        "syscall\n\t"
        "testq %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xorl %%ebp, %%ebp\n\t"  // the child: outermost frame
        "movq %%r13, %%rdi\n\t"
        "callq *%%r12\n\t"
        "movl %%eax, %%edi\n\t"
        "movl $60, %%eax\n\t"  // SYS_exit
        "syscall\n\t"
        "hlt\n\t"
        "1:\n\t"
        : "=a"(ret)
        : "0"(static_cast<long>(SYS_clone3)), "D"(args), "S"(sizeof *args), "r"(fn), "r"(fnArg)
        : "rcx", "r11", "memory", "cc");
    return ret;
}
#else
constexpr bool kSharedMemoryClone = false;
long clone3SharedMemory(clone_args*, int (*)(void*), void*) {
    return -ENOSYS;
}
#endif

// The stack of a CLONE_VM child: mapped per spawn, with a guard page below it.
class ChildStack {
  public:
    static constexpr size_t kSize = 256 * 1024;
    static constexpr size_t kGuard = 4096;
    ChildStack() {
        void* p = ::mmap(nullptr, kSize + kGuard, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (p == MAP_FAILED)
            return;
        base_ = static_cast<char*>(p);
        ::mprotect(base_, kGuard, PROT_NONE);
    }
    ~ChildStack() {
        if (!base_)
            return;
#if defined(__SANITIZE_ADDRESS__)
        // The child's frames never returned: clear their redzones so that memory
        // mapped here later is not taken for a stack.
        __asan_unpoison_memory_region(base_ + kGuard, kSize);
#endif
        ::munmap(base_, kSize + kGuard);
    }
    ChildStack(const ChildStack&) = delete;
    ChildStack& operator=(const ChildStack&) = delete;
    bool valid() const {
        return base_ != nullptr;
    }
    uint64_t low() const {
        return reinterpret_cast<uint64_t>(base_ + kGuard);
    }

  private:
    char* base_ = nullptr;
};

// For a child in a new user namespace (whose privileges count only there): what
// applyProcessLimits() would do, done by us through its pid while it waits.
Result<void> applyProcessLimitsTo(pid_t pid, const ChildPlan& plan) {
    const ProcessAttributes& a = plan.attributes;
    const std::string who = "process " + std::to_string(pid);
    auto oom = writeProcFile("/proc/" + std::to_string(pid) + "/oom_score_adj", plan.oomScoreAdj);
    if (!oom && oom.error().code().value() != EACCES && oom.error().code().value() != EPERM)
        return oom;
    if (::setpriority(PRIO_PROCESS, static_cast<id_t>(pid), a.nice) != 0 && errno != EACCES &&
        errno != EPERM)
        return Error::fromErrno("set the nice value of " + who);
    if (::syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, pid, a.ioPriority) != 0 && errno != EPERM)
        return Error::fromErrno("set the io priority of " + who);
    if (plan.schedPolicy >= 0) {
        struct sched_param param {};
        if (::sched_setscheduler(pid, plan.schedPolicy, &param) != 0)
            return Error::fromErrno("set the scheduling policy of " + who);
    }
    for (int r = 0; r < kResourceLimits; ++r) {
        if (int e = setLimit(pid, r, a.limits[static_cast<size_t>(r)]); e != 0)
            return Error::fromErrno("set rlimit " + std::to_string(r) + " of " + who, e);
    }
    return success();
}

// The copying path: a plain clone3 (or clone + cgroup.procs on kernels without
// CLONE_INTO_CGROUP), the child waiting for our go byte while we write what it
// needs (uid/gid maps for a user namespace, its cgroup on the fallback).
Result<SpawnedProcess> spawnCopying(const SpawnRequest& req, ChildPlan& plan, uint64_t nsFlags,
                                    bool forceFallback, Fd& errWrite) {
    int syncPipe[2];
    if (::pipe2(syncPipe, O_CLOEXEC) != 0) {
        return Error::fromErrno("pipe");
    }
    Fd syncRead(syncPipe[0]);
    Fd syncWrite(syncPipe[1]);
    plan.syncFd = syncRead.get();

    pid_t pid = -1;
    int pidfd = -1;
    bool fallback = false;
    {
        SignalBlock blocked;
        clone_args args{};
        args.flags = CLONE_PIDFD | nsFlags | (req.cgroupFd >= 0 ? CLONE_INTO_CGROUP : 0);
        args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
        args.exit_signal = SIGCHLD;
        args.cgroup = req.cgroupFd >= 0 ? static_cast<uint64_t>(req.cgroupFd) : 0;
        long r = -1;
        errno = ENOSYS;
        if (!forceFallback) {
            r = ::syscall(SYS_clone3, &args, sizeof args);
        }
        // ENOSYS: no clone3 (< 5.3). E2BIG: clone3 without the cgroup field (< 5.7).
        if (r < 0 && (errno == ENOSYS || errno == E2BIG)) {
            fallback = true;
            r = ::syscall(SYS_clone, static_cast<unsigned long>(nsFlags) | SIGCHLD, 0L, 0L, 0L, 0L);
        }
        if (r == 0) {
            childMain(plan);
        }
        if (r < 0) {
            return Error::fromErrno(fallback ? "clone" : "clone3");
        }
        pid = static_cast<pid_t>(r);
    }
    SpawnedProcess proc;
    proc.pid = pid;
    if (fallback) {
        proc.pidfd = Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    } else {
        proc.pidfd = Fd(pidfd);
    }
    errWrite.reset();
    // syncRead stays open in the parent until the go byte is written: if the child
    // died already, a pipe without readers would raise SIGPIPE in the daemon.

    auto setup = [&]() -> Result<void> {
        if ((nsFlags & CLONE_NEWUSER) != 0) {
            GOV_TRY(writeIdMaps(pid, req));
        }
        if (plan.applyAttributes && plan.processLimitsByParent) {
            GOV_TRY(applyProcessLimitsTo(pid, plan));
        }
        if (req.beforeRun) {
            GOV_TRY(req.beforeRun(pid));
        }
        if (fallback && req.cgroupFd >= 0) {
            // Without CLONE_INTO_CGROUP the child is moved before it runs anything:
            // slower (an RCU grace period) but never accounted to the wrong group.
            Fd procs(::openat(req.cgroupFd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
            if (!procs.valid()) {
                return Error::fromErrno("open cgroup.procs of the target group");
            }
            std::string s = std::to_string(pid);
            if (::write(procs.get(), s.data(), s.size()) != static_cast<ssize_t>(s.size())) {
                return Error::fromErrno("write cgroup.procs of the target group");
            }
        }
        char go = 1;
        if (::write(syncWrite.get(), &go, 1) != 1) {
            return Error::fromErrno("release child");
        }
        return success();
    };
    if (auto done = setup(); !done) {
        killAndReap(pid);
        return std::move(done).error();
    }
    return proc;
}

// Our own capability state, for what the child may be given.
struct OwnCapabilities {
    uint64_t effective = 0;
    uint64_t permitted = 0;
    uint64_t inheritable = 0;
    uint64_t bounding = 0;
};

OwnCapabilities ownCapabilities() {
    OwnCapabilities own;
    struct __user_cap_header_struct header {};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    struct __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &header, data) == 0) {
        own.effective = data[0].effective | (uint64_t{data[1].effective} << 32);
        own.permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
        own.inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
    }
    for (int cap = 0; cap < 64; ++cap) {
        const int r = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (r < 0)
            break;  // EINVAL past the last capability this kernel has
        if (r == 1)
            own.bounding |= uint64_t{1} << cap;
    }
    return own;
}

// Our own audit loginuid as the file says it ("4294967295" when unset), or "" when
// the kernel has no audit support.
std::string ownLoginUid() {
    Fd fd(::open("/proc/self/loginuid", O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return {};
    char buf[16] = {};
    const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

void copyDecimal(char (&out)[16], long long v) {
    const std::string s = std::to_string(v);
    std::memcpy(out, s.c_str(), std::min(s.size() + 1, sizeof out));
    out[sizeof out - 1] = '\0';
}

// Fills the attribute part of the child's plan (SpawnRequest::attributes).
void planAttributes(ChildPlan& plan, const ProcessAttributes& a, bool userNs) {
    plan.applyAttributes = true;
    plan.processLimitsByParent = userNs;
    plan.attributes = a;
    copyDecimal(plan.oomScoreAdj, a.oomScoreAdj);
    // Only the batch and idle policies are passed on; a real-time or deadline
    // caller's workload gets the normal policy (never more than the caller).
    if (a.schedPolicy == SCHED_BATCH || a.schedPolicy == SCHED_IDLE) {
        plan.schedPolicy = a.schedPolicy;
    } else if ((::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) != SCHED_OTHER) {
        plan.schedPolicy = SCHED_OTHER;
    }
    // Ours never change (governord neither drops capabilities nor writes its own
    // loginuid): read once, not at every spawn.
    static const std::string ours = ownLoginUid();
    if (!ours.empty()) {
        const long long wanted = a.loginUid ? static_cast<long long>(*a.loginUid) : 4294967295LL;
        copyDecimal(plan.loginUid, wanted);
        std::string oursTrimmed = ours;
        while (!oursTrimmed.empty() && (oursTrimmed.back() == '\n' || oursTrimmed.back() == ' '))
            oursTrimmed.pop_back();
        // A caller whose loginuid is ours keeps it (and our audit session: writing
        // it again would only allocate another).
        plan.writeLoginUid = oursTrimmed != plan.loginUid;
    }
    static const OwnCapabilities own = ownCapabilities();
    const uint64_t bounding = own.bounding & a.capBounding;
    plan.boundingDrop = own.bounding & ~a.capBounding;
    // Never more than the caller has, nor than we can give.
    const uint64_t permitted = a.capPermitted & own.permitted & bounding;
    const uint64_t effective = a.capEffective & permitted;
    const uint64_t inheritable = a.capInheritable & bounding;
    plan.caps[0].effective = static_cast<uint32_t>(effective);
    plan.caps[1].effective = static_cast<uint32_t>(effective >> 32);
    plan.caps[0].permitted = static_cast<uint32_t>(permitted);
    plan.caps[1].permitted = static_cast<uint32_t>(permitted >> 32);
    plan.caps[0].inheritable = static_cast<uint32_t>(inheritable);
    plan.caps[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
    plan.ambient = a.capAmbient & permitted & inheritable;
}

}  // namespace

Result<SpawnedProcess> ProcessSpawner::spawn(const SpawnRequest& request,
                                             std::chrono::milliseconds execTimeout) {
    auto pending = start(request);
    if (!pending)
        return std::move(pending).error();
    struct pollfd p = {pending->report.get(), POLLIN, 0};
    int ready;
    do {
        ready = ::poll(&p, 1, static_cast<int>(execTimeout.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
        abandon(*pending);
        return Error::withReason("spawn " + pending->name,
                                 "the child did not reach exec within " +
                                     std::to_string(execTimeout.count()) +
                                     " ms (stopped or frozen?)",
                                 std::errc::timed_out);
    }
    return finish(*pending);
}

Result<PendingSpawn> Clone3Spawner::start(const SpawnRequest& req) {
    if (req.argv.empty() || req.argv.front().empty()) {
        return Error::withReason("spawn", "empty command line");
    }
    const std::string& name = req.argv.front();
    const uint64_t nsFlags = cloneFlagsOf(req.namespaces);
    // In a new pid namespace the init runs the command (see Spawner.hpp); the
    // child puts the resolved command in the second slot.
    const bool viaInit = (nsFlags & CLONE_NEWPID) != 0 && !options_.pidNamespaceInit.empty();
    std::vector<std::string> initArgv;
    if (viaInit) {
        initArgv.push_back(options_.pidNamespaceInit);
        initArgv.push_back(name);  // replaced in the child
        initArgv.insert(initArgv.end(), req.argv.begin(), req.argv.end());
    }
    std::vector<char*> argv = cStrings(viaInit ? initArgv : req.argv);
    std::vector<char*> envp = cStrings(req.env);
    const char* searchPath = kDefaultPath;
    for (const auto& kv : req.env) {
        if (kv.rfind("PATH=", 0) == 0) {
            searchPath = kv.c_str() + 5;
        }
    }

    const bool userNs = (nsFlags & CLONE_NEWUSER) != 0;

    int errPipe[2];
    if (::pipe2(errPipe, O_CLOEXEC) != 0) {
        return Error::fromErrno("spawn " + name + ": pipe");
    }
    PendingSpawn pending;
    pending.name = name;
    pending.report = Fd(errPipe[0]);
    Fd errWrite(errPipe[1]);
    ChildPlan plan;
    plan.command = name.c_str();
    plan.searchPath = searchPath;
    plan.argv = argv.data();
    plan.viaInit = viaInit;
    plan.envp = envp.data();
    plan.errFd = errWrite.get();
    plan.stdio[0] = req.stdinFd;
    plan.stdio[1] = req.stdoutFd;
    plan.stdio[2] = req.stderrFd;
    plan.cwd = req.cwd.empty() ? nullptr : req.cwd.c_str();
    plan.newSession = req.newSession;
    plan.controllingTerminal = req.controllingTerminal && req.newSession;
    plan.freshProc = (nsFlags & CLONE_NEWPID) != 0 && (nsFlags & CLONE_NEWNS) != 0;
    plan.loopbackUp = (nsFlags & CLONE_NEWNET) != 0;
    plan.setCreds = req.uid.has_value() || req.gid.has_value();
    plan.hasUid = req.uid.has_value();
    plan.hasGid = req.gid.has_value();
    plan.uid = req.uid.value_or(0);
    plan.gid = req.gid.value_or(0);
    plan.groups = req.groups.data();
    plan.nGroups = req.groups.size();
    if (req.attributes)
        planAttributes(plan, *req.attributes, userNs);
    pending.uid = std::to_string(plan.uid);
    pending.gid = std::to_string(plan.gid);
    pending.cwd = req.cwd;

    pid_t pid = -1;
    int pidfd = -1;
    bool shared = false;  // CLONE_VM
    // The child keeps our uid when no uid is asked or it is ours: then only
    // processes of our uid (root, for the daemon) can signal it before it execs.
    const bool keepsOurUid = !req.uid || *req.uid == ::geteuid();
    // A beforeRun hook needs the child to wait for the parent: the copying path.
    if (kSharedMemoryClone && !userNs && keepsOurUid && !options_.forceFallback && !req.beforeRun) {
        // The common case: nothing for the parent to do between clone and exec, so
        // the child shares our memory and we sleep until it has exec'd (see
        // clone3SharedMemory). That sleep cannot be bounded: a child stopped before
        // its exec (SIGSTOP from a process of the uid it switched to) would hold us
        // for good, so a child that becomes another uid takes the copying path,
        // whose wait the caller bounds. So does a user namespace, whose maps the
        // parent writes while the child waits.
        ChildStack stack;
        if (!stack.valid()) {
            return Error::fromErrno("spawn " + name + ": child stack");
        }
        clone_args args{};
        args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | nsFlags |
                     (req.cgroupFd >= 0 ? CLONE_INTO_CGROUP : 0);
        args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
        args.exit_signal = SIGCHLD;
        args.cgroup = req.cgroupFd >= 0 ? static_cast<uint64_t>(req.cgroupFd) : 0;
        args.stack = stack.low();
        args.stack_size = ChildStack::kSize;
        // A child that changes its gids marks the memory it shares with us as not
        // dumpable (the kernel does so on a credential change): ours again after.
        const int dumpable = ::prctl(PR_GET_DUMPABLE);
        long r;
        {
            SignalBlock blocked;
            r = clone3SharedMemory(&args, childEntry, &plan);
        }
        if (dumpable == 1 && ::prctl(PR_GET_DUMPABLE) != 1)
            ::prctl(PR_SET_DUMPABLE, 1);
        if (r > 0) {
            pid = static_cast<pid_t>(r);
            shared = true;
        } else if (r != -ENOSYS && r != -E2BIG) {
            return Error::fromErrno("spawn " + name + ": clone3", static_cast<int>(-r));
        }
        // ENOSYS / E2BIG: no clone3, or none with a cgroup field: the path below.
    }
    if (shared) {
        pending.process.pid = pid;
        pending.process.pidfd = Fd(pidfd);
        // The child has exec'd or failed: the report is complete.
        errWrite.reset();
        return pending;
    }
    auto started = spawnCopying(req, plan, nsFlags, options_.forceFallback, errWrite);
    if (!started) {
        return std::move(started).error().wrap("spawn " + name);
    }
    pending.process = std::move(*started);
    return pending;
}

Result<SpawnedProcess> Clone3Spawner::finish(PendingSpawn& pending) {
    // End of file on the report means execve succeeded (the write end was
    // close-on-exec).
    ChildFailure failure{};
    ssize_t n;
    do {
        n = ::read(pending.report.get(), &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    pending.report.reset();
    if (n == 0) {
        return std::move(pending.process);
    }
    const std::string& name = pending.name;
    killAndReap(pending.process.pid);
    pending.process = SpawnedProcess{};
    if (n != static_cast<ssize_t>(sizeof failure)) {
        return Error::withReason("spawn " + name, "child failed before exec (no report)",
                                 std::errc::io_error);
    }
    if (failure.step == Step::Exec) {
        return Error::fromErrno("exec " + name, failure.err);
    }
    std::string what = stepName(failure.step);
    // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on " " + to_string().
    if (failure.step == Step::Setuid) {
        what += ' ';
        what += pending.uid;
    } else if (failure.step == Step::Setgid) {
        what += ' ';
        what += pending.gid;
    } else if (failure.step == Step::Chdir) {
        what += ' ';
        what += pending.cwd;
    } else if (failure.step == Step::Rlimit || failure.step == Step::Bounding ||
               failure.step == Step::Ambient) {
        what += ' ';
        what += std::to_string(failure.detail);
    }
    return Error::fromErrno("spawn " + name + ": " + what, failure.err);
}

void Clone3Spawner::abandon(PendingSpawn& pending) {
    if (pending.process.pid > 0)
        killAndReap(pending.process.pid);
    pending.process = SpawnedProcess{};
    pending.report.reset();
}

Result<std::optional<ExitStatus>> Clone3Spawner::reap(const SpawnedProcess& process) {
    siginfo_t info{};
    int rc;
    do {
        if (process.pidfd.valid()) {
            rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(process.pidfd.get()),
                          &info, WEXITED | WNOHANG);
        } else {
            rc = ::waitid(P_PID, static_cast<id_t>(process.pid), &info, WEXITED | WNOHANG);
        }
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return Error::fromErrno("reap pid " + std::to_string(process.pid));
    if (info.si_pid == 0)
        return std::optional<ExitStatus>();
    ExitStatus exit;
    if (info.si_code == CLD_EXITED) {
        exit.status = info.si_status;
    } else {
        exit.signal = info.si_status;
        exit.status = 128 + info.si_status;
    }
    return std::optional<ExitStatus>(exit);
}

Result<int> waitExit(const SpawnedProcess& process) {
    siginfo_t info{};
    int r;
    do {
        if (process.pidfd.valid()) {
            r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(process.pidfd.get()),
                         &info, WEXITED);
        } else {
            r = ::waitid(P_PID, static_cast<id_t>(process.pid), &info, WEXITED);
        }
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return Error::fromErrno("wait for pid " + std::to_string(process.pid));
    }
    if (info.si_code == CLD_EXITED) {
        return info.si_status;
    }
    return 128 + info.si_status;  // CLD_KILLED / CLD_DUMPED: si_status is the signal
}

Result<void> sendSignal(const SpawnedProcess& process, int signal) {
    int r;
    if (process.pidfd.valid()) {
        r = static_cast<int>(
            ::syscall(SYS_pidfd_send_signal, process.pidfd.get(), signal, nullptr, 0));
    } else {
        r = ::kill(process.pid, signal);
    }
    if (r != 0) {
        return Error::fromErrno("signal " + std::to_string(signal) + " to pid " +
                                std::to_string(process.pid));
    }
    return success();
}

}  // namespace gov::runtime
