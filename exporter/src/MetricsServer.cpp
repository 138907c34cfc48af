#include "gov/exporter/MetricsServer.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <exception>
#include <set>
#include <string_view>

#include "gov/exporter/Collector.hpp"

namespace gov::exporter {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

Result<tcp::endpoint> parseListenAddress(const std::string& text) {
    auto bad = [&](const std::string& why) {
        return Error::withReason("metrics listen address '" + text + "'", why);
    };
    auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        return bad("expected HOST:PORT");
    }
    std::string host = text.substr(0, colon);
    std::string_view port(text.data() + colon + 1, text.size() - colon - 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string::npos) {
        return bad("an IPv6 address must be in brackets: [::1]:9783");
    }
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
        return bad("bad port '" + std::string(port) + "'");
    }
    error_code aec;
    auto address = asio::ip::make_address(host, aec);
    if (aec) {
        return bad("bad address '" + host + "' (a numeric IPv4/IPv6 address or localhost)");
    }
    return tcp::endpoint(address, static_cast<unsigned short>(value));
}

namespace {

class Connection;

}  // namespace

struct MetricsServer::State : std::enable_shared_from_this<MetricsServer::State> {
    State(asio::io_context& ioc, Handler h, Limits l)
        : io(ioc), acceptor(ioc), retryTimer(ioc), handler(std::move(h)), limits(l) {}

    void accept();

    asio::io_context& io;
    tcp::acceptor acceptor;
    asio::steady_timer retryTimer;
    Handler handler;
    Limits limits;
    bool stopped = false;
    std::set<std::shared_ptr<Connection>> connections;
};

namespace {

struct Response {
    int status = 200;
    const char* reason = "OK";
    std::string body;
    bool head = false;  // HEAD: headers only
    const char* contentType = "text/plain; charset=utf-8";
    const char* extraHeader = nullptr;
};

Response error(int status, const char* reason) {
    Response r;
    r.status = status;
    r.reason = reason;
    r.body = std::string(reason) + "\n";
    return r;
}

bool isTokenChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

// The response to a complete request head (without the handler's body yet).
// Pure: the request line decides everything; header lines are not needed.
Response route(std::string_view head, bool& wantsMetrics) {
    wantsMetrics = false;
    auto eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos)
        return error(400, "Bad Request");
    auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return error(400, "Bad Request");
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (method.empty() || target.empty() || target.front() != '/')
        return error(400, "Bad Request");
    for (char c : method) {
        if (!isTokenChar(c))
            return error(400, "Bad Request");
    }
    for (char c : target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return error(400, "Bad Request");
    }
    if (version != "HTTP/1.1" && version != "HTTP/1.0")
        return error(400, "Bad Request");
    bool isHead = method == "HEAD";
    if (method != "GET" && !isHead) {
        Response r = error(405, "Method Not Allowed");
        r.extraHeader = "Allow: GET, HEAD\r\n";
        return r;
    }
    std::string_view path = target.substr(0, target.find('?'));
    Response r = path == "/metrics" ? Response{} : error(404, "Not Found");
    r.head = isHead;
    wantsMetrics = r.status == 200;
    return r;
}

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(std::shared_ptr<MetricsServer::State> state, tcp::socket socket)
        : state_(std::move(state)), socket_(std::move(socket)), timer_(state_->io) {}

    void start() {
        request_.reserve(1024);
        timer_.expires_after(state_->limits.timeout);
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec)
                self->close();  // too slow: the request or the response did not finish
        });
        read();
    }

    void close() {
        if (closed_)
            return;
        closed_ = true;
        error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        timer_.cancel();
        state_->connections.erase(shared_from_this());
    }

  private:
    void read() {
        socket_.async_read_some(
            asio::buffer(chunk_),
            [self = shared_from_this()](const error_code& ec, size_t n) { self->onRead(ec, n); });
    }

    void onRead(const error_code& ec, size_t n) {
        if (closed_)
            return;
        if (ec) {
            close();  // EOF before a complete request, reset, or closed by us
            return;
        }
        const size_t limit = state_->limits.maxRequestBytes;
        size_t before = request_.size();
        request_.append(chunk_.data(), n);  // at most limit + one chunk is ever held
        // Search from a little before the new data: the blank line may straddle reads.
        size_t from = before >= 3 ? before - 3 : 0;
        auto end = request_.find("\r\n\r\n", from);
        auto endLf = request_.find("\n\n", from);
        if (end == std::string::npos && endLf == std::string::npos) {
            if (request_.size() > limit) {
                respond(error(431, "Request Header Fields Too Large"));
            } else {
                read();
            }
            return;
        }
        size_t headEnd = std::min(end, endLf);
        if (headEnd > limit) {
            respond(error(431, "Request Header Fields Too Large"));
            return;
        }
        bool wantsMetrics = false;
        Response r = route(std::string_view(request_).substr(0, headEnd), wantsMetrics);
        if (wantsMetrics) {
            try {
                r.body = state_->handler();
                r.contentType = kExpositionContentType;
            } catch (const std::exception&) {
                // The collector reports errors in its metrics; only allocation
                // failures or the like can get here. Never let them out of a handler.
                bool head = r.head;
                r = error(500, "Internal Server Error");
                r.head = head;
            }
        }
        respond(std::move(r));
    }

    void respond(Response r) {
        head_ = "HTTP/1.1 " + std::to_string(r.status) + " " + r.reason + "\r\n";
        head_ += "Content-Type: ";
        head_ += r.contentType;
        head_ += "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
        if (r.extraHeader)
            head_ += r.extraHeader;
        head_ += "Connection: close\r\n\r\n";
        body_ = r.head ? std::string() : std::move(r.body);
        std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_), asio::buffer(body_)};
        asio::async_write(socket_, buffers, [self = shared_from_this()](const error_code&, size_t) {
            self->close();
        });
    }

    std::shared_ptr<MetricsServer::State> state_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    std::array<char, 4096> chunk_{};
    std::string request_;
    std::string head_;
    std::string body_;
    bool closed_ = false;
};

}  // namespace

void MetricsServer::State::accept() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
        if (self->stopped)
            return;
        if (ec) {
            if (ec == asio::error::operation_aborted)
                return;
            // Out of fds or a transient network error: retry a little later rather
            // than spin on the loop.
            self->retryTimer.expires_after(std::chrono::milliseconds(100));
            self->retryTimer.async_wait([self](const error_code& tec) {
                if (!tec && !self->stopped)
                    self->accept();
            });
            return;
        }
        if (self->connections.size() >= self->limits.maxConnections) {
            error_code ignored;
            socket.close(ignored);
        } else {
            auto conn = std::make_shared<Connection>(self, std::move(socket));
            self->connections.insert(conn);
            conn->start();
        }
        self->accept();
    });
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(asio::io_context& io,
                                                            const std::string& listen,
                                                            Handler handler, Limits limits) {
    auto endpoint = parseListenAddress(listen);
    if (!endpoint)
        return std::move(endpoint).error();
    auto state = std::make_shared<State>(io, std::move(handler), limits);
    error_code ec;
    auto fail = [&](const char* step) {
        return Error(std::error_code(ec.value(), std::system_category()),
                     std::string(step) + " on " + listen);
    };
    state->acceptor.open(endpoint->protocol(), ec);
    if (ec)
        return fail("listen");
    state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (ec)
        return fail("listen");
    state->acceptor.bind(*endpoint, ec);
    if (ec)
        return fail("listen");
    state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return fail("listen");
    state->accept();
    return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(state)));
}

MetricsServer::~MetricsServer() {
    stop();
}

tcp::endpoint MetricsServer::localEndpoint() const {
    error_code ec;
    return state_->acceptor.local_endpoint(ec);
}

void MetricsServer::stop() {
    if (state_->stopped)
        return;
    state_->stopped = true;
    error_code ignored;
    state_->acceptor.close(ignored);
    state_->retryTimer.cancel();
    auto connections = state_->connections;  // close() erases from the set
    for (const auto& c : connections)
        c->close();
    state_->connections.clear();
}

size_t MetricsServer::openConnections() const {
    return state_->connections.size();
}

}  // namespace gov::exporter
