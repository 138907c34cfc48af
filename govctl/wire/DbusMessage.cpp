#include "DbusMessage.hpp"

#include <cstring>

namespace gov::wire {

namespace {

// Header field codes (spec: "Header Fields").
enum : uint8_t {
    kPath = 1,
    kInterface = 2,
    kMember = 3,
    kErrorName = 4,
    kReplySerial = 5,
    kDestination = 6,
    kSender = 7,
    kSignature = 8,
    kUnixFds = 9,
};

size_t alignUp(size_t pos, size_t n) {
    return (pos + n - 1) / n * n;
}

void padTo(std::string& out, size_t n) {
    out.append(alignUp(out.size(), n) - out.size(), '\0');
}

void appendU32(std::string& out, uint32_t v) {
    // Little-endian, whatever the host.
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t loadU32(std::string_view b, size_t pos, bool bigEndian) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        const auto byte = static_cast<uint8_t>(b[pos + static_cast<size_t>(i)]);
        v |= static_cast<uint32_t>(byte) << (bigEndian ? 8 * (3 - i) : 8 * i);
    }
    return v;
}

Error malformed(const std::string& why) {
    return Error::withReason("malformed D-Bus message", why, std::errc::bad_message);
}

// The fixed size and alignment of a basic type code, 0 when it is not a
// fixed-size basic type.
size_t fixedSize(char type) {
    switch (type) {
        case 'y':
            return 1;
        case 'n':
        case 'q':
            return 2;
        case 'b':
        case 'i':
        case 'u':
        case 'h':
            return 4;
        case 'x':
        case 't':
        case 'd':
            return 8;
        default:
            return 0;
    }
}

// One header field value: a basic type, read at `pos` (absolute, so alignment is
// right) without reading past `end`.
struct FieldValue {
    char type = 0;
    std::string text;  // s, o, g
    uint64_t number = 0;
};

Result<FieldValue> readFieldValue(std::string_view b, size_t& pos, size_t end, char type,
                                  bool bigEndian) {
    FieldValue v;
    v.type = type;
    if (type == 's' || type == 'o') {
        pos = alignUp(pos, 4);
        if (pos + 4 > end)
            return malformed("header string length past the header");
        const uint32_t len = loadU32(b, pos, bigEndian);
        pos += 4;
        if (len > end - pos || end - pos - len < 1)
            return malformed("header string past the header");
        v.text.assign(b.substr(pos, len));
        if (b[pos + len] != '\0' || v.text.find('\0') != std::string::npos)
            return malformed("header string is not nul-terminated");
        pos += len + 1;
        return v;
    }
    if (type == 'g') {
        if (pos + 1 > end)
            return malformed("header signature past the header");
        const auto len = static_cast<uint8_t>(b[pos]);
        pos += 1;
        if (static_cast<size_t>(len) + 1 > end - pos)
            return malformed("header signature past the header");
        v.text.assign(b.substr(pos, len));
        if (b[pos + len] != '\0' || v.text.find('\0') != std::string::npos)
            return malformed("header signature is not nul-terminated");
        pos += static_cast<size_t>(len) + 1;
        return v;
    }
    const size_t size = fixedSize(type);
    if (size == 0)
        return malformed(std::string("header field of unsupported type '") + type + "'");
    pos = alignUp(pos, size);
    if (pos > end || size > end - pos)
        return malformed("header value past the header");
    for (size_t i = 0; i < size; ++i) {
        const auto byte = static_cast<uint8_t>(b[pos + i]);
        v.number |= static_cast<uint64_t>(byte) << (bigEndian ? 8 * (size - 1 - i) : 8 * i);
    }
    pos += size;
    return v;
}

}  // namespace

// ---- BodyWriter ----

void BodyWriter::align(size_t n) {
    padTo(data_, n);
}

void BodyWriter::putU32(uint32_t v) {
    align(4);
    appendU32(data_, v);
}

void BodyWriter::putString(std::string_view s) {
    putU32(static_cast<uint32_t>(s.size()));
    data_.append(s);
    data_.push_back('\0');
}

BodyWriter& BodyWriter::string(std::string_view s) {
    putString(s);
    signature_ += 's';
    return *this;
}

BodyWriter& BodyWriter::int32(int32_t v) {
    putU32(static_cast<uint32_t>(v));
    signature_ += 'i';
    return *this;
}

BodyWriter& BodyWriter::uint32(uint32_t v) {
    putU32(v);
    signature_ += 'u';
    return *this;
}

BodyWriter& BodyWriter::stringArray(const std::vector<std::string>& items) {
    putU32(0);  // the length in bytes, patched below
    const size_t lengthAt = data_.size() - 4;
    // Strings align to 4, as the length does: no padding before the first.
    const size_t start = data_.size();
    for (const auto& item : items)
        putString(item);
    const auto length = static_cast<uint32_t>(data_.size() - start);
    for (size_t i = 0; i < 4; ++i)
        data_[lengthAt + i] = static_cast<char>((length >> (8 * i)) & 0xff);
    signature_ += "as";
    return *this;
}

BodyWriter& BodyWriter::unixFd(uint32_t index) {
    putU32(index);
    signature_ += 'h';
    return *this;
}

// ---- BodyReader ----

bool BodyReader::expect(char type) {
    if (!ok_ || sigPos_ >= signature_.size() || signature_[sigPos_] != type) {
        ok_ = false;
        return false;
    }
    ++sigPos_;
    return true;
}

bool BodyReader::align(size_t n) {
    const size_t to = alignUp(pos_, n);
    if (to > data_.size()) {
        ok_ = false;
        return false;
    }
    pos_ = to;
    return true;
}

std::optional<uint32_t> BodyReader::readU32() {
    if (!align(4) || data_.size() - pos_ < 4) {
        ok_ = false;
        return std::nullopt;
    }
    const uint32_t v = loadU32(data_, pos_, bigEndian_);
    pos_ += 4;
    return v;
}

std::string BodyReader::string() {
    const bool isPath = ok_ && sigPos_ < signature_.size() && signature_[sigPos_] == 'o';
    if (!expect(isPath ? 'o' : 's'))
        return {};
    auto len = readU32();
    if (!len || *len > data_.size() - pos_ || data_.size() - pos_ - *len < 1) {
        ok_ = false;
        return {};
    }
    std::string s(data_.substr(pos_, *len));
    if (data_[pos_ + *len] != '\0' || s.find('\0') != std::string::npos) {
        ok_ = false;
        return {};
    }
    pos_ += *len + 1;
    return s;
}

uint32_t BodyReader::uint32() {
    if (!expect('u'))
        return 0;
    return readU32().value_or(0);
}

int32_t BodyReader::int32() {
    if (!expect('i'))
        return 0;
    return static_cast<int32_t>(readU32().value_or(0));
}

// ---- whole messages ----

std::string encode(const Message& m) {
    std::string out;
    out.reserve(128 + m.body.size());
    out.push_back('l');
    out.push_back(static_cast<char>(m.type));
    out.push_back(static_cast<char>(m.flags));
    out.push_back(1);  // protocol version
    appendU32(out, static_cast<uint32_t>(m.body.size()));
    appendU32(out, m.serial);
    appendU32(out, 0);                      // header fields length, patched below
    const size_t fieldsStart = out.size();  // 16: already 8-aligned

    auto textField = [&](uint8_t code, char type, const std::string& value) {
        if (value.empty())
            return;
        padTo(out, 8);
        out.push_back(static_cast<char>(code));
        out.push_back(1);  // the variant's signature: one type code
        out.push_back(type);
        out.push_back('\0');
        if (type == 'g') {
            out.push_back(static_cast<char>(value.size()));
        } else {
            appendU32(out, static_cast<uint32_t>(value.size()));  // offset is 4-aligned here
        }
        out.append(value);
        out.push_back('\0');
    };
    auto u32Field = [&](uint8_t code, uint32_t value) {
        if (value == 0)
            return;
        padTo(out, 8);
        out.push_back(static_cast<char>(code));
        out.push_back(1);
        out.push_back('u');
        out.push_back('\0');
        appendU32(out, value);
    };
    textField(kPath, 'o', m.path);
    textField(kInterface, 's', m.interface);
    textField(kMember, 's', m.member);
    textField(kErrorName, 's', m.errorName);
    u32Field(kReplySerial, m.replySerial);
    textField(kDestination, 's', m.destination);
    textField(kSender, 's', m.sender);
    textField(kSignature, 'g', m.signature);
    u32Field(kUnixFds, m.unixFds);

    const auto fieldsLength = static_cast<uint32_t>(out.size() - fieldsStart);
    for (size_t i = 0; i < 4; ++i)
        out[12 + i] = static_cast<char>((fieldsLength >> (8 * i)) & 0xff);
    padTo(out, 8);
    out.append(m.body);
    return out;
}

Result<std::optional<Parsed>> parse(std::string_view b) {
    if (b.size() < 16)
        return std::optional<Parsed>();
    const char endian = b[0];
    if (endian != 'l' && endian != 'B')
        return malformed("bad byte-order mark");
    const bool big = endian == 'B';
    const auto type = static_cast<uint8_t>(b[1]);
    if (type < 1 || type > 4)
        return malformed("unknown message type " + std::to_string(type));
    if (b[3] != 1)
        return malformed("unknown protocol version " + std::to_string(static_cast<uint8_t>(b[3])));
    const uint32_t bodyLength = loadU32(b, 4, big);
    const uint32_t serial = loadU32(b, 8, big);
    const uint32_t fieldsLength = loadU32(b, 12, big);
    if (bodyLength > kMaxMessageSize || fieldsLength > kMaxMessageSize)
        return malformed("message too large");
    const size_t headerEnd = 16 + static_cast<size_t>(fieldsLength);
    const size_t bodyStart = alignUp(headerEnd, 8);
    const size_t total = bodyStart + bodyLength;
    if (total > kMaxMessageSize)
        return malformed("message too large");
    if (b.size() < total)
        return std::optional<Parsed>();
    if (serial == 0)
        return malformed("serial 0");

    Parsed p;
    Message& m = p.message;
    m.type = static_cast<MessageType>(type);
    m.flags = static_cast<uint8_t>(b[2]);
    m.serial = serial;
    m.bigEndian = big;
    size_t pos = 16;
    while (pos < headerEnd) {
        pos = alignUp(pos, 8);
        if (pos + 4 > headerEnd)
            return malformed("truncated header field");
        const auto code = static_cast<uint8_t>(b[pos]);
        const auto sigLength = static_cast<uint8_t>(b[pos + 1]);
        if (sigLength != 1)
            return malformed("header field " + std::to_string(code) + " is not of a basic type");
        const char fieldType = b[pos + 2];
        if (b[pos + 3] != '\0')
            return malformed("header field signature is not nul-terminated");
        pos += 4;
        auto value = readFieldValue(b, pos, headerEnd, fieldType, big);
        if (!value)
            return std::move(value).error();
        auto expectType = [&](char t) -> Result<void> {
            if (value->type != t) {
                return malformed("header field " + std::to_string(code) + " has type '" +
                                 std::string(1, value->type) + "', not '" + t + "'");
            }
            return success();
        };
        switch (code) {
            case kPath:
                GOV_TRY(expectType('o'));
                m.path = value->text;
                break;
            case kInterface:
                GOV_TRY(expectType('s'));
                m.interface = value->text;
                break;
            case kMember:
                GOV_TRY(expectType('s'));
                m.member = value->text;
                break;
            case kErrorName:
                GOV_TRY(expectType('s'));
                m.errorName = value->text;
                break;
            case kReplySerial:
                GOV_TRY(expectType('u'));
                m.replySerial = static_cast<uint32_t>(value->number);
                break;
            case kDestination:
                GOV_TRY(expectType('s'));
                m.destination = value->text;
                break;
            case kSender:
                GOV_TRY(expectType('s'));
                m.sender = value->text;
                break;
            case kSignature:
                GOV_TRY(expectType('g'));
                m.signature = value->text;
                break;
            case kUnixFds:
                GOV_TRY(expectType('u'));
                m.unixFds = static_cast<uint32_t>(value->number);
                break;
            default:
                break;  // unknown fields are ignored (spec)
        }
    }
    if (pos != headerEnd)
        return malformed("header fields overrun their length");
    for (size_t i = headerEnd; i < bodyStart; ++i) {
        if (b[i] != '\0')
            return malformed("non-zero padding after the header");
    }
    switch (m.type) {
        case MessageType::MethodCall:
            if (m.path.empty() || m.member.empty())
                return malformed("method call without path or member");
            break;
        case MessageType::MethodReturn:
            if (m.replySerial == 0)
                return malformed("method return without reply serial");
            break;
        case MessageType::Error:
            if (m.replySerial == 0 || m.errorName.empty())
                return malformed("error without reply serial or error name");
            break;
        case MessageType::Signal:
            if (m.path.empty() || m.interface.empty() || m.member.empty())
                return malformed("signal without path, interface or member");
            break;
    }
    if (bodyLength > 0 && m.signature.empty())
        return malformed("body without signature");
    m.body.assign(b.substr(bodyStart, bodyLength));
    p.size = total;
    return std::optional<Parsed>(std::move(p));
}

}  // namespace gov::wire
