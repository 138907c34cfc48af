// A stand-in for `criu swrk FD` in the unit tests: speaks CRIU's RPC (the same
// generated messages) on FD and acts out the mode its name ends with (the tests
// call it through symlinks "criu-ok", "criu-fail", "criu-silent"): "ok" writes
// page and inventory images, "fail" a log with an Error line and success=false,
// "silent" exits without answering.
// It checks that a dump request is the one Governor must send (the frozen cgroup
// named, tasks left running) and refuses anything else.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rpc.pb-c.h"

namespace {

void answer(int sock, CriuResp* resp) {
    std::vector<uint8_t> buf(criu_resp__get_packed_size(resp));
    criu_resp__pack(resp, buf.data());
    if (::send(sock, buf.data(), buf.size(), 0) < 0) {
        std::exit(3);
    }
}

void writeAt(int dirFd, const char* name, const std::string& text) {
    int fd = ::openat(dirFd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        std::exit(4);
    }
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 || std::strcmp(argv[1], "swrk") != 0) {
        return 2;
    }
    int sock = std::atoi(argv[2]);
    std::vector<uint8_t> buf(1 << 16);
    ssize_t n = ::recv(sock, buf.data(), buf.size(), 0);
    if (n <= 0) {
        return 3;
    }
    CriuReq* req = criu_req__unpack(nullptr, static_cast<size_t>(n), buf.data());
    if (req == nullptr) {
        return 3;
    }
    CriuResp resp = CRIU_RESP__INIT;
    resp.type = req->type;
    resp.success = 1;
    if (req->type == CRIU_REQ_TYPE__VERSION) {
        CriuVersion v = CRIU_VERSION__INIT;
        v.major_number = 3;
        v.minor_number = 17;
        v.has_sublevel = 1;
        v.sublevel = 1;
        resp.version = &v;
        answer(sock, &resp);
        return 0;
    }
    if (req->type != CRIU_REQ_TYPE__DUMP || req->opts == nullptr) {
        resp.success = 0;
        resp.cr_errmsg = const_cast<char*>("fake criu: unexpected request");
        answer(sock, &resp);
        return 0;
    }
    // The caller's descriptor, as CRIU opens it: through the peer's /proc entry.
    ucred peer{};
    socklen_t len = sizeof peer;
    if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
        return 5;
    }
    std::string path =
        "/proc/" + std::to_string(peer.pid) + "/fd/" + std::to_string(req->opts->images_dir_fd);
    int dir = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir < 0) {
        return 6;
    }
    const std::string self = argv[0];
    const std::string mode = self.substr(self.rfind('-') + 1);
    const char* log = req->opts->log_file != nullptr ? req->opts->log_file : "fake.log";
    if (req->opts->freeze_cgroup == nullptr || !req->opts->leave_running || req->opts->pid <= 0) {
        resp.success = 0;
        resp.cr_errmsg = const_cast<char*>("fake criu: dump without freeze_cgroup/leave_running");
    } else if (mode == "ok") {
        writeAt(dir, "pages-1.img", std::string(8192, 'p'));
        writeAt(dir, "inventory.img", "inv");
        writeAt(dir, log, "(00.1) Dumping finished successfully\n");
    } else if (mode == "fail") {
        writeAt(dir, "pages-1.img", std::string(4096, 'p'));
        writeAt(dir, log,
                "(00.1) Warn (criu/x.c:1): harmless\n"
                "(00.2) Error (criu/cr-dump.c:123): fake failure\n"
                "(00.3) Dumping FAILED.\n");
        resp.success = 0;
        resp.has_cr_errno = 1;
        resp.cr_errno = EIO;
    } else {
        return 1;  // "silent" or anything else: exit without answering
    }
    answer(sock, &resp);
    return 0;
}
