#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include "gov/daemon/Options.hpp"
#include "gov/exporter/MetricsServer.hpp"

namespace gov::exporter {
namespace {

// A server on 127.0.0.1:<free port>, its io_context run by a background thread;
// the test talks to it with plain blocking sockets.
class ServerFixture {
  public:
    explicit ServerFixture(MetricsServer::Limits limits = {},
                           std::string body = "governor_build_info{version=\"t\"} 1\n") {
        auto server = MetricsServer::start(
            io_, "127.0.0.1:0",
            [this, body] {
                ++scrapes;
                return body;
            },
            limits);
        if (!server) {
            ADD_FAILURE() << server.error().message();
            return;
        }
        server_ = std::move(*server);
        port = server_->localEndpoint().port();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~ServerFixture() { stop(); }

    void stop() {
        if (!server_)
            return;
        // The server lives on the io thread; stop it there.
        boost::asio::post(io_, [this] { server_->stop(); });
        thread_.join();
        server_.reset();
    }

    // The server lives on the io thread: ask it there.
    template <typename Fn>
    auto onServerThread(Fn fn) {
        std::atomic<bool> done{false};
        decltype(fn()) value{};
        boost::asio::post(io_, [&] {
            value = fn();
            done = true;
        });
        while (!done)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return value;
    }

    size_t openConnections() {
        return onServerThread([&] { return server_->openConnections(); });
    }
    uint64_t evicted() {
        return onServerThread([&] { return server_->evictedConnections(); });
    }

    unsigned short port = 0;
    std::atomic<int> scrapes{0};

  private:
    boost::asio::io_context io_;
    std::unique_ptr<MetricsServer> server_;
    std::thread thread_;
};

// A connected socket (-1 on failure, a test failure unless `quiet`).
int connectTo(unsigned short port, bool quiet = false) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (!quiet)
            ADD_FAILURE() << "connect to port " << port << " failed";
        ::close(fd);
        return -1;
    }
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

void sendAll(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0)
            return;  // the server may close early (oversized request)
        off += static_cast<size_t>(n);
    }
}

// Reads until the server closes (or 5 s pass).
std::string readAll(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

std::string request(unsigned short port, const std::string& text) {
    int fd = connectTo(port);
    sendAll(fd, text);
    std::string response = readAll(fd);
    ::close(fd);
    return response;
}

std::string statusLine(const std::string& response) {
    return response.substr(0, response.find("\r\n"));
}

TEST(MetricsServer, GetMetricsReturnsExpositionWithContentType) {
    ServerFixture s;
    std::string r = request(s.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(statusLine(r), "HTTP/1.1 200 OK");
    EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
              std::string::npos);
    EXPECT_NE(r.find("Content-Length: 35\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("\r\n\r\ngovernor_build_info{version=\"t\"} 1\n"), std::string::npos);
    EXPECT_EQ(s.scrapes, 1);
}

TEST(MetricsServer, QueryStringIsIgnoredAndHttp10Accepted) {
    ServerFixture s;
    std::string r = request(s.port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n");
    EXPECT_EQ(statusLine(r), "HTTP/1.1 200 OK");
}

// Beast's parser wants CRLF line ends (RFC 9112 lets a server accept a bare LF, it
// does not require it); Prometheus and every HTTP client send CRLF.
TEST(MetricsServer, BareLineFeedsAreABadRequest) {
    ServerFixture s;
    EXPECT_EQ(statusLine(request(s.port, "GET /metrics HTTP/1.1\n\n")), "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(s.scrapes, 0);
}

TEST(MetricsServer, HeadReturnsHeadersWithoutBody) {
    ServerFixture s;
    std::string r = request(s.port, "HEAD /metrics HTTP/1.1\r\n\r\n");
    EXPECT_EQ(statusLine(r), "HTTP/1.1 200 OK");
    EXPECT_NE(r.find("Content-Length: 35\r\n"), std::string::npos) << r;
    EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "");
}

TEST(MetricsServer, OtherPathIsNotFoundAndDoesNotScrape) {
    ServerFixture s;
    EXPECT_EQ(statusLine(request(s.port, "GET / HTTP/1.1\r\n\r\n")), "HTTP/1.1 404 Not Found");
    EXPECT_EQ(statusLine(request(s.port, "GET /metricsx HTTP/1.1\r\n\r\n")),
              "HTTP/1.1 404 Not Found");
    EXPECT_EQ(s.scrapes, 0);
}

TEST(MetricsServer, OtherMethodIsNotAllowed) {
    ServerFixture s;
    std::string r = request(s.port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(statusLine(r), "HTTP/1.1 405 Method Not Allowed");
    EXPECT_NE(r.find("Allow: GET, HEAD\r\n"), std::string::npos);
    EXPECT_EQ(s.scrapes, 0);
}

TEST(MetricsServer, OversizedRequestIsRejected) {
    MetricsServer::Limits limits;
    limits.maxRequestBytes = 1024;
    ServerFixture s(limits);
    std::string big = "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(4000, 'a') + "\r\n\r\n";
    std::string r = request(s.port, big);
    EXPECT_EQ(statusLine(r), "HTTP/1.1 431 Request Header Fields Too Large");
    EXPECT_EQ(s.scrapes, 0);
}

TEST(MetricsServer, EndlessHeaderWithoutBlankLineIsRejectedAtTheLimit) {
    MetricsServer::Limits limits;
    limits.maxRequestBytes = 512;
    ServerFixture s(limits);
    int fd = connectTo(s.port);
    sendAll(fd, "GET /metrics HTTP/1.1\r\n" + std::string(2000, 'b'));
    std::string r = readAll(fd);
    ::close(fd);
    EXPECT_EQ(statusLine(r), "HTTP/1.1 431 Request Header Fields Too Large");
}

TEST(MetricsServer, MalformedRequestsGetBadRequest) {
    ServerFixture s;
    for (const std::string& bad :
         {std::string("garbage\r\n\r\n"), std::string("GET /metrics\r\n\r\n"),
          std::string("GET /metrics HTTP/2\r\n\r\n"), std::string("GET metrics HTTP/1.1\r\n\r\n"),
          std::string("GET  /metrics HTTP/1.1\r\n\r\n"), std::string("\r\n\r\n"),
          std::string("G\x01T /metrics HTTP/1.1\r\n\r\n"),
          std::string("GET /met\x7frics HTTP/1.1\r\n\r\n"),
          std::string("\xff\xfe\x00\x01\r\n\r\n", 8)}) {
        EXPECT_EQ(statusLine(request(s.port, bad)), "HTTP/1.1 400 Bad Request") << bad;
    }
    EXPECT_EQ(s.scrapes, 0);
    // The server still works afterwards.
    EXPECT_EQ(statusLine(request(s.port, "GET /metrics HTTP/1.1\r\n\r\n")), "HTTP/1.1 200 OK");
}

TEST(MetricsServer, RequestSplitAcrossPacketsIsServed) {
    ServerFixture s;
    int fd = connectTo(s.port);
    for (const char* part : {"GET /met", "rics HTTP/1.1\r", "\n", "Host: x\r\n\r", "\n"}) {
        sendAll(fd, part);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string r = readAll(fd);
    ::close(fd);
    EXPECT_EQ(statusLine(r), "HTTP/1.1 200 OK");
}

TEST(MetricsServer, SilentClientIsDisconnectedAtTheHeadDeadline) {
    MetricsServer::Limits limits;
    limits.headTimeout = std::chrono::milliseconds(200);
    ServerFixture s(limits);
    int fd = connectTo(s.port);
    sendAll(fd, "GET /metrics HT");
    auto start = std::chrono::steady_clock::now();
    std::string r = readAll(fd);  // returns when the server closes
    auto waited = std::chrono::steady_clock::now() - start;
    ::close(fd);
    EXPECT_EQ(r, "");
    EXPECT_LT(waited, std::chrono::seconds(4));
    EXPECT_EQ(s.scrapes, 0);
}

TEST(MetricsServer, SlowlorisThatKeepsSendingIsCutAtTheHeadDeadline) {
    MetricsServer::Limits limits;
    limits.headTimeout = std::chrono::milliseconds(300);
    ServerFixture s(limits);
    int fd = connectTo(s.port);
    const std::string head = "GET /metrics HTTP/1.1\r\nX-Slow: " + std::string(400, 'a');
    auto start = std::chrono::steady_clock::now();
    bool cut = false;
    // One byte every 20 ms: far more than the deadline needs, and never a complete head.
    for (char c : head) {
        if (::send(fd, &c, 1, MSG_NOSIGNAL) != 1) {
            cut = true;
            break;
        }
        char probe;
        if (::recv(fd, &probe, 1, MSG_DONTWAIT) == 0) {
            cut = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto waited = std::chrono::steady_clock::now() - start;
    ::close(fd);
    EXPECT_TRUE(cut) << "still open after sending " << head.size() << " bytes";
    EXPECT_LT(waited, std::chrono::seconds(4));
    EXPECT_GE(waited, std::chrono::milliseconds(250));
    EXPECT_EQ(s.scrapes, 0);
}

// Waits (bounded) until the server has `n` connections open.
bool waitForOpen(ServerFixture& s, size_t n) {
    for (int i = 0; i < 2500 && s.openConnections() != n; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return s.openConnections() == n;
}

TEST(MetricsServer, AtTheCapTheOldestIdleConnectionMakesRoomForANewOne) {
    MetricsServer::Limits limits;
    limits.maxConnections = 2;
    limits.headTimeout = std::chrono::seconds(30);  // only an eviction can close them
    ServerFixture s(limits);
    int oldest = connectTo(s.port);
    ASSERT_TRUE(waitForOpen(s, 1));
    int younger = connectTo(s.port);
    ASSERT_TRUE(waitForOpen(s, 2));
    std::string r = request(s.port, "GET /metrics HTTP/1.1\r\n\r\n");
    EXPECT_EQ(statusLine(r), "HTTP/1.1 200 OK");
    EXPECT_EQ(readAll(oldest), "");  // closed by the server (EOF), not by the 5 s timeout
    EXPECT_EQ(s.evicted(), 1u);
    EXPECT_TRUE(waitForOpen(s, 1));  // the younger idle one
    ::close(oldest);
    ::close(younger);
}

TEST(MetricsServer, AClientTakingItsResponseIsEvictedOnlyWhenNoConnectionIsIdle) {
    MetricsServer::Limits limits;
    limits.maxConnections = 2;
    limits.headTimeout = std::chrono::seconds(30);  // only an eviction can close them
    // A body bigger than the socket buffers: a client that does not read it stays in
    // the response phase.
    ServerFixture s(limits, std::string(8 << 20, 'x'));
    int reader = connectTo(s.port);
    sendAll(reader, "GET /metrics HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(waitForOpen(s, 1));
    int idle = connectTo(s.port);
    ASSERT_TRUE(waitForOpen(s, 2));
    int third = connectTo(s.port);  // the idle one goes, not the slow reader
    for (int i = 0; i < 2500 && s.evicted() < 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(readAll(idle), "");
    EXPECT_EQ(s.evicted(), 1u);
    char c;
    EXPECT_EQ(::recv(reader, &c, 1, 0), 1);  // the response is still coming
    ::close(idle);
    ::close(third);
    ::close(reader);
}

TEST(MetricsServer, AScrapeSucceedsWithinOneSecondWhileHundredHostileConnectionsAreOpen) {
    ServerFixture s;  // the default limits: 16 connections, 3 s for a request head
    std::atomic<bool> stop{false};
    std::vector<int> idle;
    std::vector<std::thread> hostile;
    // 40 connect and say nothing.
    for (int i = 0; i < 40; ++i)
        idle.push_back(connectTo(s.port));
    // 30 send a request head one byte every 100 ms, reconnecting when cut.
    // 30 connect, send one byte, and reconnect as soon as the server closes them.
    for (int kind = 0; kind < 2; ++kind) {
        for (int i = 0; i < 30; ++i) {
            hostile.emplace_back([&, kind] {
                while (!stop) {
                    int fd = connectTo(s.port, /*quiet=*/true);
                    if (fd < 0)
                        continue;
                    timeval tv{0, 100000};
                    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
                    const char* slow = "GET /metrics HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaa";
                    for (size_t k = 0; !stop; ++k) {
                        char c = kind == 0 ? slow[k % std::strlen(slow)] : 'G';
                        if ((kind == 0 || k == 0) && ::send(fd, &c, 1, MSG_NOSIGNAL) != 1)
                            break;
                        char buf[64];
                        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                            break;  // closed by the server: come back
                    }
                    ::close(fd);
                }
            });
        }
    }
    ASSERT_TRUE(waitForOpen(s, 16));
    std::vector<double> seconds;
    for (int i = 0; i < 10; ++i) {
        auto start = std::chrono::steady_clock::now();
        std::string r = request(s.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        EXPECT_EQ(statusLine(r), "HTTP/1.1 200 OK") << "scrape " << i;
        EXPECT_LT(seconds.back(), 1.0) << "scrape " << i;
    }
    stop = true;
    for (auto& t : hostile)
        t.join();
    for (int fd : idle)
        ::close(fd);
    EXPECT_GT(s.evicted(), 84u);  // at least every idle one beyond the cap
    std::sort(seconds.begin(), seconds.end());
    std::cout << "scrapes under 100 hostile connections: median " << seconds[5] * 1e3 << " ms, max "
              << seconds.back() * 1e3 << " ms, " << s.evicted() << " connections evicted\n";
}

TEST(MetricsServer, StopClosesOpenConnectionsAndLetsRunReturn) {
    ServerFixture s;
    int idle = connectTo(s.port);
    for (int i = 0; i < 500 && s.openConnections() < 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    s.stop();  // joins the io thread: run() returned although a client was connected
    EXPECT_EQ(readAll(idle), "");
    ::close(idle);
}

TEST(MetricsServer, ListenOnBusyPortIsAnErrorNamingTheAddress) {
    ServerFixture s;
    boost::asio::io_context io;
    std::string addr = "127.0.0.1:" + std::to_string(s.port);
    auto second = MetricsServer::start(io, addr, [] { return std::string(); });
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().message(), "listen on " + addr + ": Address already in use");
}

// An endpoint without authentication that names what runs on the host is not opened
// to every interface unless the operator asks (docs/metrics.md, "Endpoint").
TEST(MetricsListenDefault, IsLoopbackOnly) {
    char prog[] = "governord";
    char* argv[] = {prog, nullptr};
    int exitCode = -1;
    auto options = daemon::parseOptions(1, argv, exitCode);
    ASSERT_TRUE(options.has_value());
    EXPECT_EQ(options->metricsListen, "127.0.0.1:9783");
    auto endpoint = parseListenAddress(options->metricsListen);
    ASSERT_TRUE(endpoint);
    EXPECT_TRUE(endpoint->address().is_loopback());
}

TEST(ParseListenAddress, AcceptsIpv4Ipv6AndLocalhost) {
    auto a = parseListenAddress("0.0.0.0:9783");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port(), 9783);
    EXPECT_TRUE(a->address().is_v4());
    auto b = parseListenAddress("[::1]:80");
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->address().is_v6());
    auto c = parseListenAddress("localhost:1");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->address().to_string(), "127.0.0.1");
}

TEST(ParseListenAddress, RejectsMalformedAddresses) {
    for (const char* bad : {"9783", "host:9783", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
                            "1.2.3.4:80x", "::1:80", ":80"}) {
        auto r = parseListenAddress(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_NE(r.error().message().find(bad), std::string::npos) << r.error().message();
        }
    }
}

}  // namespace
}  // namespace gov::exporter
