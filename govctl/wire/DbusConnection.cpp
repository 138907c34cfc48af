#include "DbusConnection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace gov::wire {

namespace {

constexpr size_t kMaxFdsPerRead = 16;

int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// D-Bus address values escape bytes as %xx.
std::optional<std::string> unescape(std::string_view v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '%') {
            out.push_back(v[i]);
            continue;
        }
        if (i + 2 >= v.size())
            return std::nullopt;
        const int hi = hexValue(v[i + 1]);
        const int lo = hexValue(v[i + 2]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

long long monotonicMs() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Result<void> writeAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::fromErrno("write to the bus");
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return success();
}

Result<int> connectTo(const std::string& path) {
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    const bool abstract = !path.empty() && path[0] == '@';
    if (path.size() >= sizeof addr.sun_path) {
        return Error::withReason("connect to " + path, "socket path too long",
                                 std::errc::filename_too_long);
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (abstract)
        addr.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) +
                                               path.size() + (abstract ? 0 : 1));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return Error::fromErrno("socket");
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), length);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        const int err = errno;
        ::close(fd);
        return Error::fromErrno("connect to " + path, err);
    }
    return fd;
}

std::string hexOf(const std::string& s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0xf]);
    }
    return out;
}

}  // namespace

std::string systemBusAddress() {
    const char* env = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    return env && *env ? std::string(env) : std::string("unix:path=/run/dbus/system_bus_socket");
}

std::vector<std::string> unixSocketPaths(const std::string& address) {
    std::vector<std::string> paths;
    size_t start = 0;
    while (start <= address.size()) {
        size_t end = address.find(';', start);
        if (end == std::string::npos)
            end = address.size();
        std::string_view entry(address.data() + start, end - start);
        start = end + 1;
        if (entry.rfind("unix:", 0) != 0)
            continue;
        entry.remove_prefix(5);
        size_t keyStart = 0;
        while (keyStart < entry.size()) {
            size_t keyEnd = entry.find(',', keyStart);
            if (keyEnd == std::string_view::npos)
                keyEnd = entry.size();
            std::string_view kv = entry.substr(keyStart, keyEnd - keyStart);
            keyStart = keyEnd + 1;
            const size_t eq = kv.find('=');
            if (eq == std::string_view::npos)
                continue;
            const std::string_view key = kv.substr(0, eq);
            auto value = unescape(kv.substr(eq + 1));
            if (!value || value->empty())
                continue;
            if (key == "path")
                paths.push_back(*value);
            else if (key == "abstract")
                paths.push_back("@" + *value);
        }
    }
    return paths;
}

Message methodCall(std::string destination, std::string path, std::string interface,
                   std::string member, const BodyWriter& body) {
    Message m;
    m.type = MessageType::MethodCall;
    m.destination = std::move(destination);
    m.path = std::move(path);
    m.interface = std::move(interface);
    m.member = std::move(member);
    m.signature = body.signature();
    m.body = body.data();
    return m;
}

Message methodReturn(const Message& call, const BodyWriter& body) {
    Message m;
    m.type = MessageType::MethodReturn;
    m.flags = kNoReplyExpected;
    m.replySerial = call.serial;
    m.destination = call.sender;
    m.signature = body.signature();
    m.body = body.data();
    return m;
}

Message errorReply(const Message& call, std::string name, const std::string& text) {
    BodyWriter body;
    body.string(text);
    Message m = methodReturn(call, body);
    m.type = MessageType::Error;
    m.errorName = std::move(name);
    return m;
}

Message signal(std::string destination, std::string path, std::string interface, std::string member,
               const BodyWriter& body) {
    Message m;
    m.type = MessageType::Signal;
    m.flags = kNoReplyExpected;
    m.destination = std::move(destination);
    m.path = std::move(path);
    m.interface = std::move(interface);
    m.member = std::move(member);
    m.signature = body.signature();
    m.body = body.data();
    return m;
}

std::string errorMessage(const Message& m) {
    if (m.signature.empty() || m.signature[0] != 's')
        return {};
    BodyReader r(m);
    std::string s = r.string();
    return r.ok() ? s : std::string();
}

Result<Connection> Connection::open(const std::string& address) {
    const auto paths = unixSocketPaths(address);
    if (paths.empty()) {
        return Error::withReason("connect to the bus",
                                 "no unix socket in address '" + address + "'",
                                 std::errc::invalid_argument);
    }
    Error last;
    for (const auto& path : paths) {
        auto fd = connectTo(path);
        if (!fd) {
            last = std::move(fd).error();
            continue;
        }
        Connection c(*fd);
        GOV_TRY(c.authenticate());
        return c;
    }
    return last;
}

Connection::Connection(Connection&& other) noexcept {
    *this = std::move(other);
}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        for (int fd : fdsIn_)
            ::close(fd);
        for (auto& m : queue_) {
            for (int fd : m.fds)
                ::close(fd);
        }
        fd_ = other.fd_;
        other.fd_ = -1;
        serial_ = other.serial_;
        helloSerial_ = other.helloSerial_;
        uniqueName_ = std::move(other.uniqueName_);
        in_ = std::move(other.in_);
        queue_ = std::move(other.queue_);
        acceptFds_ = other.acceptFds_;
        fdsIn_ = std::move(other.fdsIn_);
    }
    return *this;
}

Connection::~Connection() {
    if (fd_ >= 0)
        ::close(fd_);
    for (int fd : fdsIn_)
        ::close(fd);
    for (auto& m : queue_) {
        for (int fd : m.fds)
            ::close(fd);
    }
}

Result<void> Connection::authenticate() {
    // EXTERNAL with our uid as the initial response, fd passing, BEGIN and Hello
    // in one write (pipelined, as sd-bus does); then the two answers.
    std::string out(1, '\0');
    out += "AUTH EXTERNAL " + hexOf(std::to_string(::geteuid())) + "\r\n";
    out += "NEGOTIATE_UNIX_FD\r\nBEGIN\r\n";
    Message hello = methodCall("org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "Hello");
    hello.serial = helloSerial_ = ++serial_;
    out += encode(hello);
    GOV_TRY(writeAll(fd_, out));

    std::vector<std::string> lines;
    const long long deadline = monotonicMs() + 25000;
    while (lines.size() < 2) {
        const size_t eol = in_.find("\r\n");
        if (eol != std::string::npos) {
            lines.push_back(in_.substr(0, eol));
            in_.erase(0, eol + 2);
            if (lines.back().rfind("OK ", 0) != 0 && lines.size() == 1) {
                return Error::withReason("authenticate to the bus",
                                         "the bus answered '" + lines.back() + "'",
                                         std::errc::permission_denied);
            }
            continue;
        }
        if (in_.size() > 4096) {
            return Error::withReason("authenticate to the bus", "answer too long",
                                     std::errc::bad_message);
        }
        struct pollfd p = {fd_, POLLIN, 0};
        const long long left = deadline - monotonicMs();
        const int r = left <= 0 ? 0 : ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            return Error::withReason("authenticate to the bus", "no answer", std::errc::timed_out);
        }
        char buf[512];
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::fromErrno("authenticate to the bus");
        if (n == 0) {
            return Error::withReason("authenticate to the bus", "the bus closed the connection",
                                     std::errc::connection_reset);
        }
        in_.append(buf, static_cast<size_t>(n));
    }
    if (lines[1] != "AGREE_UNIX_FD") {
        return Error::withReason("authenticate to the bus",
                                 "the bus does not pass file descriptors ('" + lines[1] + "')",
                                 std::errc::not_supported);
    }
    return parseBuffered();
}

Result<uint32_t> Connection::send(Message m, const std::vector<int>& fds) {
    m.serial = ++serial_;
    m.unixFds = static_cast<uint32_t>(fds.size());
    const std::string bytes = encode(m);
    size_t sent = 0;
    if (!fds.empty()) {
        // The fds travel with the first byte of the message.
        std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()), 0);
        struct iovec iov = {const_cast<char*>(bytes.data()), bytes.size()};
        struct msghdr msg {};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
        ssize_t n;
        do {
            n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            return Error::fromErrno("send " + m.member + " to the bus");
        sent = static_cast<size_t>(n);
    }
    GOV_TRY(writeAll(fd_, std::string_view(bytes).substr(sent)));
    return m.serial;
}

Result<void> Connection::readAvailable() {
    char buf[65536];
    union {
        char bytes[CMSG_SPACE(sizeof(int) * kMaxFdsPerRead)];
        struct cmsghdr align;
    } control;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    ssize_t n;
    do {
        n = ::recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return success();
        return Error::fromErrno("read from the bus");
    }
    // govctl expects no descriptors from anyone: close any that came (unless
    // told to keep them).
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (acceptFds_)
                    fdsIn_.push_back(fd);
                else
                    ::close(fd);
            }
        }
    }
    if (n == 0) {
        return Error::withReason("read from the bus", "the bus closed the connection",
                                 std::errc::connection_reset);
    }
    in_.append(buf, static_cast<size_t>(n));
    return parseBuffered();
}

Result<void> Connection::parseBuffered() {
    size_t offset = 0;
    for (;;) {
        auto parsed = parse(std::string_view(in_).substr(offset));
        if (!parsed)
            return std::move(parsed).error();
        if (!*parsed)
            break;
        offset += (*parsed)->size;
        Message& m = (*parsed)->message;
        if (helloSerial_ != 0 && m.replySerial == helloSerial_) {
            helloSerial_ = 0;
            if (m.type == MessageType::Error) {
                return Error::withReason("register on the bus (Hello)",
                                         m.errorName + ": " + errorMessage(m),
                                         std::errc::connection_refused);
            }
            BodyReader r(m);
            uniqueName_ = r.string();
            continue;
        }
        // A message's descriptors come with its first bytes, so they have been
        // read by now.
        for (uint32_t i = 0; i < m.unixFds && !fdsIn_.empty(); ++i) {
            m.fds.push_back(fdsIn_.front());
            fdsIn_.pop_front();
        }
        queue_.push_back(std::move(m));
    }
    in_.erase(0, offset);
    return success();
}

std::optional<Message> Connection::next() {
    if (queue_.empty())
        return std::nullopt;
    Message m = std::move(queue_.front());
    queue_.pop_front();
    return m;
}

Result<Message> Connection::call(Message m, const std::vector<int>& fds, int timeoutMs) {
    const std::string member = m.member;
    auto serial = send(std::move(m), fds);
    if (!serial)
        return std::move(serial).error();
    const long long deadline = monotonicMs() + timeoutMs;
    for (;;) {
        for (auto it = queue_.begin(); it != queue_.end(); ++it) {
            if (it->replySerial == *serial &&
                (it->type == MessageType::MethodReturn || it->type == MessageType::Error)) {
                Message reply = std::move(*it);
                queue_.erase(it);
                return reply;
            }
        }
        struct pollfd p = {fd_, POLLIN, 0};
        const long long left = deadline - monotonicMs();
        const int r = left <= 0 ? 0 : ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return Error::fromErrno("wait for the reply to " + member);
        if (r == 0) {
            return Error::withReason("call " + member,
                                     "no reply within " + std::to_string(timeoutMs) + " ms",
                                     std::errc::timed_out);
        }
        GOV_TRY(readAvailable());
    }
}

}  // namespace gov::wire
