// A minimal D-Bus client connection for `govctl exec` (see DbusMessage.hpp for why
// it is not sdbus-c++): a UNIX socket, the EXTERNAL authentication with UNIX fd
// passing negotiated, Hello, sending messages with fds, and reading messages as the
// caller's poll loop finds them.
//
// Single-threaded and blocking only where a method says so; the socket is exposed
// for the caller's poll().
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "DbusMessage.hpp"
#include "gov/Result.hpp"

namespace gov::wire {

// The default system bus address: $DBUS_SYSTEM_BUS_ADDRESS, else
// unix:path=/run/dbus/system_bus_socket (as sd-bus).
std::string systemBusAddress();

// The socket paths of a D-Bus address list ("unix:path=/x;unix:abstract=y,guid=..."),
// in order, with %-escapes undone; an abstract name starts with '@'. Transports
// other than unix are skipped.
std::vector<std::string> unixSocketPaths(const std::string& address);

class Connection {
  public:
    // Connects to the first reachable socket of `address`, authenticates as our
    // uid, negotiates fd passing and sends Hello (its reply is awaited lazily, by
    // the first call()).
    static Result<Connection> open(const std::string& address);

    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    int fd() const { return fd_; }
    // Our unique name, once Hello's reply has been read ("" before).
    const std::string& uniqueName() const { return uniqueName_; }

    // Sends `m` with the next serial, `fds` attached; returns the serial.
    Result<uint32_t> send(Message m, const std::vector<int>& fds = {});
    // Sends `m` and blocks until its reply (method return or error) arrives or
    // `timeoutMs` passes; other messages read meanwhile are kept for next().
    Result<Message> call(Message m, const std::vector<int>& fds = {}, int timeoutMs = 25000);
    // A message already read, if any (does not touch the socket).
    std::optional<Message> next();
    // Keep the descriptors that come with messages (Message::fds) instead of
    // closing them (govctl expects none; a test's fake daemon receives Exec's).
    void acceptFds(bool accept) { acceptFds_ = accept; }
    // Reads what the socket has (call when poll() says it is readable) and parses
    // the complete messages in it. An error means the connection is unusable
    // (closed by the bus, or malformed data).
    Result<void> readAvailable();

  private:
    explicit Connection(int fd) : fd_(fd) {}
    Result<void> authenticate();
    Result<void> parseBuffered();

    int fd_ = -1;
    uint32_t serial_ = 0;
    uint32_t helloSerial_ = 0;
    std::string uniqueName_;
    std::string in_;  // bytes read, not yet parsed
    std::deque<Message> queue_;
    bool acceptFds_ = false;
    std::deque<int> fdsIn_;  // received, not yet given to a message
};

// Builders for the messages govctl sends.
Message methodCall(std::string destination, std::string path, std::string interface,
                   std::string member, const BodyWriter& body = {});

// The answers and signals a server side sends (a test's fake daemon).
Message methodReturn(const Message& call, const BodyWriter& body = {});
Message errorReply(const Message& call, std::string name, const std::string& text);
Message signal(std::string destination, std::string path, std::string interface, std::string member,
               const BodyWriter& body = {});

// For an error reply: its first string argument (the message), or "".
std::string errorMessage(const Message& m);

}  // namespace gov::wire
