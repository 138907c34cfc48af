// libFuzzer target: gov::wire::parse(), what govctl exec runs on every byte the bus
// sends, and BodyReader over any body. Besides crashes and sanitizer reports it
// checks properties that must hold for any input:
//  - a parsed message took between 16 bytes and the input's size, and any prefix of
//    those bytes is incomplete, not an error and not another message;
//  - re-encoded (little-endian, so the body is kept only when it already was), it
//    parses again, whole, to the same header fields;
//  - BodyReader reads within the body, and a reader that says atEnd() is ok().
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "DbusMessage.hpp"

using namespace gov::wire;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

bool sameHeader(const Message& a, const Message& b) {
    return a.type == b.type && a.flags == b.flags && a.serial == b.serial && a.path == b.path &&
           a.interface == b.interface && a.member == b.member && a.errorName == b.errorName &&
           a.replySerial == b.replySerial && a.destination == b.destination &&
           a.sender == b.sender && a.signature == b.signature && a.unixFds == b.unixFds;
}

// Reads the body as its signature says, as far as the reader can ('s', 'o', 'u',
// 'i'); stops at the first failure or another type.
void readBySignature(const Message& m) {
    BodyReader r(m);
    for (char type : m.signature) {
        if (type == 's' || type == 'o') {
            const std::string s = r.string();
            check(s.find('\0') == std::string::npos);
            check(s.size() <= m.body.size());
        } else if (type == 'u') {
            (void)r.uint32();
        } else if (type == 'i') {
            (void)r.int32();
        } else {
            break;
        }
        if (!r.ok())
            break;
    }
    check(!r.atEnd() || r.ok());
}

// Any bytes as a body of "sui" repeated: reads in that order until one fails.
void readCycling(std::string_view bytes, bool bigEndian) {
    Message m;
    m.body.assign(bytes);
    m.bigEndian = bigEndian;
    for (size_t i = 0; i < 32; ++i)
        m.signature += "sui";
    BodyReader r(m);
    for (size_t i = 0; r.ok() && !r.atEnd(); ++i) {
        switch (i % 3) {
            case 0: {
                const std::string s = r.string();
                check(s.size() < bytes.size() || s.empty());
                break;
            }
            case 1:
                (void)r.uint32();
                break;
            default:
                (void)r.int32();
                break;
        }
        check(i < m.signature.size());
    }
    // Reading on, after a failure or past the signature, fails.
    (void)r.string();
    (void)r.uint32();
    (void)r.int32();
    check(!r.ok() && !r.atEnd());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    readCycling(bytes, size > 0 && (data[0] & 1));

    auto parsed = parse(bytes);
    if (!parsed.ok()) {
        check(!parsed.error().message().empty());
        return 0;
    }
    if (!*parsed) {
        return 0;  // incomplete
    }
    const Parsed& p = **parsed;
    const Message& m = p.message;
    check(p.size >= 16 && p.size <= size && p.size <= kMaxMessageSize);
    check(m.serial != 0);
    check(!m.bigEndian == (bytes[0] == 'l'));
    // The header's prefixes: never an error, never a message.
    for (size_t n : {size_t{0}, size_t{15}, size_t{16}, p.size / 2, p.size - 1}) {
        if (n >= p.size)
            continue;
        auto part = parse(bytes.substr(0, n));
        check(part.ok() && !part->has_value());
    }

    readBySignature(m);

    Message again = m;
    if (m.bigEndian)
        again.body.clear();  // a big-endian body cannot be kept in a little-endian message
    again.bigEndian = false;
    const std::string image = encode(again);
    auto reparsed = parse(image);
    check(reparsed.ok() && reparsed->has_value());
    const Parsed& q = **reparsed;
    check(q.size == image.size());
    check(sameHeader(q.message, m));
    check(q.message.body == again.body);
    check(!q.message.bigEndian);
    // Little-endian input with canonical layout re-encodes to itself.
    if (!m.bigEndian)
        check(encode(q.message) == image);
    return 0;
}
