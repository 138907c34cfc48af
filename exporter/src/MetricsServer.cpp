#include "gov/exporter/MetricsServer.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <exception>
#include <list>
#include <optional>
#include <string_view>

#include "gov/exporter/TextFormat.hpp"

namespace gov::exporter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
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
    // Closes one connection to make room for a new one (see the header).
    void evictOne();

    asio::io_context& io;
    tcp::acceptor acceptor;
    asio::steady_timer retryTimer;
    Handler handler;
    Limits limits;
    bool stopped = false;
    uint64_t evicted = 0;
    // In accept order: the front is the oldest.
    std::list<std::shared_ptr<Connection>> connections;
};

namespace {

// What to answer, decided from the request head alone.
struct Route {
    http::status status = http::status::ok;
    bool head = false;         // HEAD: headers only
    bool allowHeader = false;  // 405: "Allow: GET, HEAD"
};

// Pure: the request line decides everything; header fields are not needed.
Route route(const http::request<http::empty_body>& req) {
    Route r;
    const auto target = std::string_view(req.target().data(), req.target().size());
    if ((req.version() != 10 && req.version() != 11) || target.empty() || target.front() != '/') {
        r.status = http::status::bad_request;
        return r;
    }
    r.head = req.method() == http::verb::head;
    if (req.method() != http::verb::get && !r.head) {
        r.status = http::status::method_not_allowed;
        r.allowHeader = true;
        return r;
    }
    if (target.substr(0, target.find('?')) != "/metrics")
        r.status = http::status::not_found;
    return r;
}

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    enum class Phase { Head, Response, Closed };

    Connection(std::shared_ptr<MetricsServer::State> state, tcp::socket socket)
        : state_(std::move(state)),
          stream_(std::move(socket)),
          buffer_(state_->limits.maxRequestBytes) {}

    // Where this connection is in the server's list (set by the server).
    std::list<std::shared_ptr<Connection>>::iterator position;

    Phase phase() const { return phase_; }

    void start() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(state_->limits.maxRequestBytes));
        // One deadline for the whole head, however the client spreads its bytes.
        stream_.expires_after(state_->limits.headTimeout);
        http::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](const error_code& ec, size_t) { self->onHead(ec); });
    }

    // Idempotent. Pending operations complete with an error and find it closed.
    void close() {
        if (phase_ == Phase::Closed)
            return;
        phase_ = Phase::Closed;
        error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
        if (!state_->stopped)
            state_->connections.erase(position);
    }

  private:
    void onHead(const error_code& ec) {
        if (phase_ == Phase::Closed)
            return;
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            respond(http::status::request_header_fields_too_large, false, false);
            return;
        }
        if (ec) {
            // A request Beast's parser refused gets a 400; anything else (the client
            // left, was too slow, was closed by us, or a socket error) has nobody
            // to answer.
            const bool refused =
                ec.category() == http::make_error_code(http::error::bad_method).category() &&
                ec != http::error::end_of_stream && ec != http::error::partial_message;
            if (refused)
                respond(http::status::bad_request, false, false);
            else
                close();
            return;
        }
        Route r = route(parser_->get());
        if (r.status != http::status::ok) {
            respond(r.status, r.head, r.allowHeader);
            return;
        }
        std::string body;
        try {
            body = state_->handler();
        } catch (const std::exception&) {
            // The collector reports errors in its metrics; only allocation failures
            // or the like can get here. Never let them out of a handler.
            respond(http::status::internal_server_error, r.head, false);
            return;
        }
        send(http::status::ok, kExpositionContentType, std::move(body), r.head, false);
    }

    void respond(http::status status, bool head, bool allowHeader) {
        const auto text = http::obsolete_reason(status);
        const std::string reason(text.data(), text.size());
        send(status, "text/plain; charset=utf-8", reason + "\n", head, allowHeader);
    }

    void send(http::status status, const char* contentType, std::string body, bool head,
              bool allowHeader) {
        phase_ = Phase::Response;
        response_.result(status);
        response_.version(11);
        response_.set(http::field::content_type, contentType);
        response_.content_length(body.size());
        if (allowHeader)
            response_.set(http::field::allow, "GET, HEAD");
        response_.set(http::field::connection, "close");
        // HEAD: the length of what GET would send, and no body.
        if (!head)
            response_.body() = std::move(body);
        stream_.expires_after(state_->limits.responseTimeout);
        http::async_write(
            stream_, response_,
            [self = shared_from_this()](const error_code&, size_t) { self->close(); });
    }

    std::shared_ptr<MetricsServer::State> state_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> response_;
    Phase phase_ = Phase::Head;
};

}  // namespace

void MetricsServer::State::evictOne() {
    auto victim = connections.begin();
    for (auto it = connections.begin(); it != connections.end(); ++it) {
        if ((*it)->phase() == Connection::Phase::Head) {
            victim = it;
            break;
        }
    }
    if (victim == connections.end())
        return;
    auto keep = *victim;  // close() erases it from the list
    keep->close();
    ++evicted;
}

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
        const size_t cap = std::max<size_t>(self->limits.maxConnections, 1);
        while (self->connections.size() >= cap)
            self->evictOne();
        auto conn = std::make_shared<Connection>(self, std::move(socket));
        conn->position = self->connections.insert(self->connections.end(), conn);
        conn->start();
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
    auto connections = std::move(state_->connections);
    state_->connections.clear();
    for (const auto& c : connections)
        c->close();
}

size_t MetricsServer::openConnections() const {
    return state_->connections.size();
}

uint64_t MetricsServer::evictedConnections() const {
    return state_->evicted;
}

}  // namespace gov::exporter
