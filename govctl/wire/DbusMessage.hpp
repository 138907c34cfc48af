// The D-Bus wire format, the small part govctl's exec path needs: marshalling a
// message with a body of basic types, string arrays and UNIX fd indices, and
// parsing any message the bus sends back (header fields of basic types, bodies read
// on demand). Pure code, no I/O: unit-tested against byte images and fuzzed.
//
// Why not sdbus-c++ here: `govctl exec` is on the operator's (and scripts') hot
// path, and loading libsdbus-c++ + libsystemd with its six dependencies costs more
// than the whole of `unshare --fork --pid --mount-proc true` (bench/exec). Every
// other govctl command, and the daemon, use sdbus-c++ and its generated glue.
//
// Spec: https://dbus.freedesktop.org/doc/dbus-specification.html ("Message Format").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gov/Result.hpp"

namespace gov::wire {

enum class MessageType : uint8_t { MethodCall = 1, MethodReturn = 2, Error = 3, Signal = 4 };

inline constexpr uint8_t kNoReplyExpected = 0x1;
// Larger messages are refused when parsing: every reply govctl expects is small.
inline constexpr uint32_t kMaxMessageSize = 16u << 20;

struct Message {
    MessageType type = MessageType::MethodCall;
    uint8_t flags = 0;
    uint32_t serial = 0;
    // Header fields; empty / 0 when absent.
    std::string path;
    std::string interface;
    std::string member;
    std::string errorName;
    uint32_t replySerial = 0;
    std::string destination;
    std::string sender;
    std::string signature;
    uint32_t unixFds = 0;
    // The marshalled body, in the message's byte order.
    std::string body;
    bool bigEndian = false;
    // Descriptors that came with it, when the connection accepts them
    // (Connection::acceptFds); whoever holds the message must close them.
    std::vector<int> fds;
};

// Builds a little-endian body. Alignment is relative to the body start, which the
// message format puts on an 8-byte boundary.
class BodyWriter {
  public:
    BodyWriter& string(std::string_view s);                          // 's'
    BodyWriter& int32(int32_t v);                                    // 'i'
    BodyWriter& uint32(uint32_t v);                                  // 'u'
    BodyWriter& stringArray(const std::vector<std::string>& items);  // 'as'
    BodyWriter& unixFd(uint32_t index);  // 'h': an index into the message's fds

    const std::string& data() const { return data_; }
    const std::string& signature() const { return signature_; }

  private:
    void align(size_t n);
    void putU32(uint32_t v);
    void putString(std::string_view s);

    std::string data_;
    std::string signature_;
};

// Reads a body; every read checks bounds and the signature, and a failed read
// leaves the reader failed (ok() false) so a caller can read a whole tuple and
// check once.
class BodyReader {
  public:
    explicit BodyReader(const Message& m)
        : data_(m.body), signature_(m.signature), bigEndian_(m.bigEndian) {}

    std::string string();  // 's' or 'o'
    uint32_t uint32();     // 'u'
    int32_t int32();       // 'i'
    bool ok() const { return ok_; }
    // True when every value of the signature has been read.
    bool atEnd() const { return ok_ && sigPos_ == signature_.size(); }

  private:
    bool expect(char type);
    bool align(size_t n);
    std::optional<uint32_t> readU32();

    std::string_view data_;
    std::string_view signature_;
    bool bigEndian_;
    size_t pos_ = 0;
    size_t sigPos_ = 0;
    bool ok_ = true;
};

// The whole message, little-endian, ready to send. `m.signature` must describe
// `m.body`; `m.unixFds` is the number of fds sent along with it.
std::string encode(const Message& m);

// Parses one message from the front of `bytes`. Returns the message and how many
// bytes it took, std::nullopt when `bytes` holds only part of one (read more), or
// an Error naming what is malformed (the connection cannot be trusted after it).
struct Parsed {
    Message message;
    size_t size = 0;
};
Result<std::optional<Parsed>> parse(std::string_view bytes);

}  // namespace gov::wire
