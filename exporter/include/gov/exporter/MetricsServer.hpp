// The Prometheus endpoint: GET /metrics over HTTP/1.1 with Boost.Beast, on the
// daemon's Boost.Asio io_context.
//
// Why not prometheus-cpp's Exposer: it serves from civetweb threads, and the
// collector reads daemon state that only the io_context thread may touch. Here
// every handler, including the scrape itself, runs on that one thread.
//
// Behaviour (one request per connection, "Connection: close"):
// - GET or HEAD of /metrics (a query string is ignored): 200 with the handler's
//   body; any other path: 404; any other method: 405 with "Allow: GET, HEAD"; a
//   request Beast's parser rejects, a target that is not a path, or an HTTP version
//   other than 1.0/1.1: 400; a request head larger than Limits::maxRequestBytes: 431.
// - Whatever other clients do, a scraper gets its answer:
//   - a connection must deliver its whole request head within Limits::headTimeout
//     from its accept (a client that trickles bytes, slowloris, is cut there too),
//     and take its response within Limits::responseTimeout, or it is closed;
//   - at most Limits::maxConnections are open: a new connection is always accepted,
//     and when the cap is reached the oldest connection still waiting for its request
//     head is closed to make room (or, if every connection is sending a response,
//     the oldest of those: a slow reader). A scraper sends its request at once, so
//     idle and slow clients are the ones that go.
// - The loop is blocked only while the handler runs (the scrape) and for
//   non-blocking socket calls; nothing a client sends can throw out of a handler.
//
// Thread safety: none; use from the io_context's thread. Destroying the server (or
// stop()) closes the listening socket and every open connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gov/Result.hpp"

namespace gov::exporter {

// "HOST:PORT" with a numeric IPv4 address, "[IPv6]:PORT", or "localhost:PORT"
// (127.0.0.1). No name resolution (it would block the loop). Port 0 picks a free
// port (tests).
Result<boost::asio::ip::tcp::endpoint> parseListenAddress(const std::string& text);

class MetricsServer {
  public:
    // Produces the body of a /metrics response (Prometheus text).
    using Handler = std::function<std::string()>;

    struct Limits {
        size_t maxRequestBytes = 8192;
        // Prometheus sends its request right after connecting; 3 s leaves room for
        // retransmissions on a lossy network and frees a slot a slow client holds.
        std::chrono::milliseconds headTimeout{3000};
        std::chrono::milliseconds responseTimeout{10000};
        size_t maxConnections = 16;
    };

    // Binds and listens on `listen` (parseListenAddress) and starts accepting.
    // Errors name the address: "listen on 127.0.0.1:9783: Address already in use".
    static Result<std::unique_ptr<MetricsServer>> start(boost::asio::io_context& io,
                                                        const std::string& listen, Handler handler,
                                                        Limits limits);
    static Result<std::unique_ptr<MetricsServer>> start(boost::asio::io_context& io,
                                                        const std::string& listen,
                                                        Handler handler) {
        return start(io, listen, std::move(handler), Limits{});
    }

    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // The bound address (with the real port when 0 was asked).
    boost::asio::ip::tcp::endpoint localEndpoint() const;
    // Stops accepting and closes every connection; io_context::run() no longer
    // waits for this server.
    void stop();

    // Connections currently open, and those closed so far to make room under the
    // cap (tests).
    size_t openConnections() const;
    uint64_t evictedConnections() const;

    struct State;  // shared with the connections (public for the .cpp only)

  private:
    explicit MetricsServer(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
};

}  // namespace gov::exporter
