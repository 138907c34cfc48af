#include "gov/runtime/Spawner.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
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
    Setgroups,
    Setgid,
    Setuid,
    Stdio,
    Chdir,
    Exec,
};

struct ChildFailure {
    Step step;
    int err;
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
        case Step::Setgroups:
            return "setgroups";
        case Step::Setgid:
            return "setgid";
        case Step::Setuid:
            return "setuid";
        case Step::Stdio:
            return "set up stdio";
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
    const char* path = nullptr;
    char* const* argv = nullptr;
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
};

[[noreturn]] void childFail(const ChildPlan& plan, Step step, int err) {
    ChildFailure f{step, err};
    // Best effort: if even this fails the parent sees EOF and a dead child.
    ssize_t ignored = ::write(plan.errFd, &f, sizeof f);
    (void)ignored;
    ::_exit(127);
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
    // Move the requested fds above 2 first, so that e.g. stdout=0 is not clobbered by
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
    if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) {
        childFail(plan, Step::Chdir, errno);
    }
    // Descriptors the daemon leaked without O_CLOEXEC must not reach the workload.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(plan.path, plan.argv, plan.envp);
    childFail(plan, Step::Exec, errno);
}

bool isExecutableFile(const std::string& path, int& err) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        err = errno;
        return false;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
        err = EACCES;
        return false;
    }
    return true;
}

// execvpe's search, done in the parent so "not found" is an error of spawn().
Result<std::string> resolveCommand(const SpawnRequest& req) {
    const std::string& cmd = req.argv.front();
    const std::string context = "exec " + cmd;
    if (cmd.empty()) {
        return Error(std::errc::no_such_file_or_directory, context);
    }
    int err = ENOENT;
    if (cmd.find('/') != std::string::npos) {
        std::string path = cmd;
        if (cmd.front() != '/' && !req.cwd.empty()) {
            path = req.cwd + "/" + cmd;
        }
        if (!isExecutableFile(path, err)) {
            return Error::fromErrno(context, err);
        }
        return path;
    }
    std::string pathVar = kDefaultPath;
    for (const auto& kv : req.env) {
        if (kv.rfind("PATH=", 0) == 0) {
            pathVar = kv.substr(5);
        }
    }
    bool sawEacces = false;
    size_t start = 0;
    while (start <= pathVar.size()) {
        size_t colon = pathVar.find(':', start);
        if (colon == std::string::npos) {
            colon = pathVar.size();
        }
        std::string dir = pathVar.substr(start, colon - start);
        start = colon + 1;
        if (dir.empty()) {
            dir = req.cwd.empty() ? "." : req.cwd;  // POSIX: an empty entry is the cwd
        }
        std::string candidate = dir + "/" + cmd;
        int e = 0;
        if (isExecutableFile(candidate, e)) {
            return candidate;
        }
        if (e == EACCES) {
            sawEacces = true;
        }
    }
    return Error::fromErrno(context, sawEacces ? EACCES : ENOENT);
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
    bool valid() const { return base_ != nullptr; }
    uint64_t low() const { return reinterpret_cast<uint64_t>(base_ + kGuard); }

  private:
    char* base_ = nullptr;
};

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

}  // namespace

Result<SpawnedProcess> Clone3Spawner::spawn(const SpawnRequest& req) {
    if (req.argv.empty()) {
        return Error::withReason("spawn", "empty command line");
    }
    const std::string& name = req.argv.front();
    auto path = resolveCommand(req);
    if (!path) {
        return std::move(path).error();
    }
    const uint64_t nsFlags = cloneFlagsOf(req.namespaces);
    // In a new pid namespace the init runs the command (see Spawner.hpp).
    const bool viaInit = (nsFlags & CLONE_NEWPID) != 0 && !options_.pidNamespaceInit.empty();
    std::vector<std::string> initArgv;
    if (viaInit) {
        initArgv.push_back(options_.pidNamespaceInit);
        initArgv.push_back(*path);
        initArgv.insert(initArgv.end(), req.argv.begin(), req.argv.end());
        *path = options_.pidNamespaceInit;
    }
    std::vector<char*> argv = cStrings(viaInit ? initArgv : req.argv);
    std::vector<char*> envp = cStrings(req.env);

    const bool userNs = (nsFlags & CLONE_NEWUSER) != 0;

    int errPipe[2];
    if (::pipe2(errPipe, O_CLOEXEC) != 0) {
        return Error::fromErrno("spawn " + name + ": pipe");
    }
    Fd errRead(errPipe[0]);
    Fd errWrite(errPipe[1]);
    ChildPlan plan;
    plan.path = path->c_str();
    plan.argv = argv.data();
    plan.envp = envp.data();
    plan.errFd = errWrite.get();
    plan.stdio[0] = req.stdinFd;
    plan.stdio[1] = req.stdoutFd;
    plan.stdio[2] = req.stderrFd;
    plan.cwd = req.cwd.empty() ? nullptr : req.cwd.c_str();
    plan.newSession = req.newSession;
    plan.freshProc = (nsFlags & CLONE_NEWPID) != 0 && (nsFlags & CLONE_NEWNS) != 0;
    plan.loopbackUp = (nsFlags & CLONE_NEWNET) != 0;
    plan.setCreds = req.uid.has_value() || req.gid.has_value();
    plan.hasUid = req.uid.has_value();
    plan.hasGid = req.gid.has_value();
    plan.uid = req.uid.value_or(0);
    plan.gid = req.gid.value_or(0);
    plan.groups = req.groups.data();
    plan.nGroups = req.groups.size();

    pid_t pid = -1;
    int pidfd = -1;
    bool shared = false;  // CLONE_VM
    // The child keeps our uid when no uid is asked or it is ours: then only
    // processes of our uid (root, for the daemon) can signal it before it execs.
    const bool keepsOurUid = !req.uid || *req.uid == ::geteuid();
    if (kSharedMemoryClone && !userNs && keepsOurUid && !options_.forceFallback) {
        // The common case: nothing for the parent to do between clone and exec, so
        // the child shares our memory and we sleep until it has exec'd (see
        // clone3SharedMemory). That sleep cannot be bounded: a child stopped before
        // its exec (SIGSTOP from a process of the uid it switched to) would hold us
        // for good, so a child that becomes another uid takes the copying path,
        // whose wait has a timeout. So does a user namespace, whose maps the parent
        // writes while the child waits.
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
    SpawnedProcess proc;
    if (shared) {
        proc.pid = pid;
        proc.pidfd = Fd(pidfd);
        errWrite.reset();
    } else {
        auto started = spawnCopying(req, plan, nsFlags, options_.forceFallback, errWrite);
        if (!started) {
            return std::move(started).error().wrap("spawn " + name);
        }
        proc = std::move(*started);
    }

    // EOF on the error pipe means execve succeeded (the write end was close-on-exec).
    // After a shared-memory clone that has happened already; after a copying one,
    // wait at most execTimeout.
    if (!shared) {
        struct pollfd p = {errRead.get(), POLLIN, 0};
        int ready;
        do {
            ready = ::poll(&p, 1, static_cast<int>(options_.execTimeout.count()));
        } while (ready < 0 && errno == EINTR);
        if (ready == 0) {
            killAndReap(proc.pid);
            return Error::withReason(
                "spawn " + name,
                "the child did not reach exec within " +
                    std::to_string(options_.execTimeout.count()) + " ms (stopped or frozen?)",
                std::errc::timed_out);
        }
    }
    ChildFailure failure{};
    ssize_t n;
    do {
        n = ::read(errRead.get(), &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        return proc;
    }
    killAndReap(proc.pid);
    if (n != static_cast<ssize_t>(sizeof failure)) {
        return Error::withReason("spawn " + name, "child failed before exec (no report)",
                                 std::errc::io_error);
    }
    if (failure.step == Step::Exec) {
        return Error::fromErrno("exec " + name, failure.err);
    }
    std::string what = stepName(failure.step);
    if (failure.step == Step::Setuid) {
        // Appended piecewise: GCC 12 warns falsely (-Wrestrict) on " " + to_string().
        what += ' ';
        what += std::to_string(plan.uid);
    } else if (failure.step == Step::Setgid) {
        what += ' ';
        what += std::to_string(plan.gid);
    } else if (failure.step == Step::Chdir) {
        what += ' ';
        what += req.cwd;
    }
    return Error::fromErrno("spawn " + name + ": " + what, failure.err);
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
