// exporter_fixture_server PORT: serves /metrics over the fake tree of
// tests/fixtures/exporter (every controller's files) with the real collector and
// server, until SIGTERM/SIGINT. The live Prometheus test scrapes it next to a real
// governord, because this host has no v2 controllers: without it, the dashboard's
// memory, IO and tasks queries could never be checked against what the exporter
// serves. Prints "listening on 127.0.0.1:PORT" once ready.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <string>

#include "FixtureDaemon.hpp"
#include "gov/exporter/Collector.hpp"
#include "gov/exporter/MetricsServer.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: exporter_fixture_server PORT\n");
        return 2;
    }
    auto fixture = gov::exporter::test::loadFixtureDaemon(gov::exporter::test::fixtureTree());
    if (!fixture) {
        std::fprintf(stderr, "%s\n", fixture.error().message().c_str());
        return 1;
    }
    boost::asio::io_context io;
    gov::exporter::Collector collector;
    auto server = gov::exporter::MetricsServer::start(io, std::string("127.0.0.1:") + argv[1], [&] {
        return collector.scrape((*fixture)->input());
    });
    if (!server) {
        std::fprintf(stderr, "%s\n", server.error().message().c_str());
        return 1;
    }
    boost::asio::signal_set stop(io, SIGTERM, SIGINT);
    stop.async_wait([&](const boost::system::error_code&, int) { (*server)->stop(); });
    std::printf("listening on 127.0.0.1:%u\n", (*server)->localEndpoint().port());
    std::fflush(stdout);
    io.run();
    return 0;
}
