// The pure half of govctl's minimal D-Bus client (govctl/wire/DbusMessage.hpp) and
// the lean front's exec command-line parser: exact byte images for what we send,
// round trips, every prefix of a message, hand-built big-endian input, and one test
// per kind of malformed input (an error, never a crash or a silent accept).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include "DbusConnection.hpp"
#include "DbusMessage.hpp"
#include "ExecArgs.hpp"

namespace gov::wire {
namespace {

// Bytes from a list of small integers and characters, so that images read like the
// spec's tables.
std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values)
        out.push_back(static_cast<char>(v));
    return out;
}

// The small method call whose byte image is spelled out in EncodeWritesTheExactImage.
Message smallCall() {
    Message m;
    m.type = MessageType::MethodCall;
    m.serial = 1;
    m.path = "/o";
    m.member = "Ping";
    m.destination = "d";
    m.signature = "u";
    m.body = bytes({0x2a, 0, 0, 0});
    return m;
}

void expectSameHeader(const Message& a, const Message& b) {
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.flags, b.flags);
    EXPECT_EQ(a.serial, b.serial);
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.interface, b.interface);
    EXPECT_EQ(a.member, b.member);
    EXPECT_EQ(a.errorName, b.errorName);
    EXPECT_EQ(a.replySerial, b.replySerial);
    EXPECT_EQ(a.destination, b.destination);
    EXPECT_EQ(a.sender, b.sender);
    EXPECT_EQ(a.signature, b.signature);
    EXPECT_EQ(a.unixFds, b.unixFds);
}

// parse() of a whole message that must succeed.
Parsed parseWhole(const std::string& image) {
    auto r = parse(image);
    EXPECT_TRUE(r.ok()) << r.error().message();
    if (!r.ok() || !*r) {
        ADD_FAILURE() << "no complete message in " << image.size() << " bytes";
        return {};
    }
    return **r;
}

// parse() that must fail; returns the reason.
std::string parseError(const std::string& image) {
    auto r = parse(image);
    if (r.ok()) {
        ADD_FAILURE() << (*r ? "parsed" : "asked for more bytes") << " instead of an error";
        return {};
    }
    EXPECT_EQ(r.error().code(), std::make_error_code(std::errc::bad_message));
    return r.error().message();
}

void putLe32(std::string& image, size_t at, uint32_t v) {
    for (size_t i = 0; i < 4; ++i)
        image[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// ---- encode() ----

TEST(DbusEncode, WritesTheExactImageOfASmallMethodCall) {
    std::string expected;
    // Fixed header: endianness, type, flags, version, body length, serial, field bytes.
    expected += bytes({'l', 1, 0, 1, 4, 0, 0, 0, 1, 0, 0, 0, 55, 0, 0, 0});
    // PATH (1) as a variant of 'o', at 16.
    expected += bytes({1, 1, 'o', 0, 2, 0, 0, 0, '/', 'o', 0});
    expected += bytes({0, 0, 0, 0, 0});  // to 32
    // MEMBER (3), 's'.
    expected += bytes({3, 1, 's', 0, 4, 0, 0, 0, 'P', 'i', 'n', 'g', 0});
    expected += bytes({0, 0, 0});  // to 48
    // DESTINATION (6), 's'.
    expected += bytes({6, 1, 's', 0, 1, 0, 0, 0, 'd', 0});
    expected += bytes({0, 0, 0, 0, 0, 0});  // to 64
    // SIGNATURE (8), 'g': one length byte, no padding. The field array ends at 71.
    expected += bytes({8, 1, 'g', 0, 1, 'u', 0});
    expected += bytes({0});  // the body starts 8-aligned, at 72
    expected += bytes({0x2a, 0, 0, 0});

    EXPECT_EQ(encode(smallCall()), expected);
}

TEST(DbusEncode, FlagsTypeAndEveryHeaderFieldLandWhereTheSpecSays) {
    Message m;
    m.type = MessageType::Error;
    m.flags = kNoReplyExpected;
    m.serial = 0x01020304;
    m.errorName = "e.E";
    m.replySerial = 9;
    m.unixFds = 2;
    const std::string image = encode(m);
    EXPECT_EQ(image.substr(0, 16), bytes({'l', 3, 1, 1, 0, 0, 0, 0, 4, 3, 2, 1, 32, 0, 0, 0}));
    // ERROR_NAME at 16, REPLY_SERIAL ('u') at 32, UNIX_FDS ('u') at 40; nothing after
    // the fields (no body), and the fields end on 8 so there is no padding either.
    // clang-format off
    EXPECT_EQ(image.substr(16), bytes({4, 1, 's', 0, 3, 0, 0, 0, 'e', '.', 'E', 0, 0, 0, 0, 0,  //
                                       5, 1, 'u', 0, 9, 0, 0, 0,                                //
                                       9, 1, 'u', 0, 2, 0, 0, 0}));
    // clang-format on
}

TEST(DbusEncode, OmitsAbsentFieldsAndPadsTheHeaderTo8) {
    Message m;
    m.type = MessageType::MethodReturn;
    m.serial = 2;
    m.replySerial = 1;
    const std::string image = encode(m);
    // Only REPLY_SERIAL: 8 bytes of fields, no signature since there is no body.
    // clang-format off
    EXPECT_EQ(image, bytes({'l', 2, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0,  //
                            5, 1, 'u', 0, 1, 0, 0, 0}));
    // clang-format on
    EXPECT_EQ(image.size() % 8, 0u);
}

// ---- BodyWriter ----

TEST(DbusBodyWriter, StringIsLengthBytesAndNul) {
    BodyWriter w;
    w.string("ab");
    EXPECT_EQ(w.data(), bytes({2, 0, 0, 0, 'a', 'b', 0}));
    EXPECT_EQ(w.signature(), "s");
}

TEST(DbusBodyWriter, FixedTypesAlignTo4AfterAString) {
    BodyWriter w;
    w.string("ab").uint32(5).int32(-2).unixFd(1);
    // clang-format off
    EXPECT_EQ(w.data(), bytes({2, 0, 0, 0, 'a', 'b', 0, 0,  // pad after the nul
                               5, 0, 0, 0,                    //
                               0xfe, 0xff, 0xff, 0xff,        //
                               1, 0, 0, 0}));
    // clang-format on
    EXPECT_EQ(w.signature(), "suih");
}

TEST(DbusBodyWriter, EmptyStringStillHasItsNul) {
    BodyWriter w;
    w.string("").int32(7);
    EXPECT_EQ(w.data(), bytes({0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0}));
}

TEST(DbusBodyWriter, StringArrayLengthCountsElementsAndTheirInnerPadding) {
    BodyWriter w;
    w.stringArray({"x", "yz"});
    // 6 bytes for "x", 2 of padding, 7 for "yz": 15; no padding after the last.
    // clang-format off
    EXPECT_EQ(w.data(), bytes({15, 0, 0, 0,                   //
                               1, 0, 0, 0, 'x', 0, 0, 0,      //
                               2, 0, 0, 0, 'y', 'z', 0}));
    // clang-format on
    EXPECT_EQ(w.signature(), "as");
}

TEST(DbusBodyWriter, EmptyStringArrayIsAZeroLength) {
    BodyWriter w;
    w.string("a").stringArray({}).uint32(3);
    // clang-format off
    EXPECT_EQ(w.data(), bytes({1, 0, 0, 0, 'a', 0, 0, 0,  // "a", padded to 8
                               0, 0, 0, 0,                  // the empty array
                               3, 0, 0, 0}));
    // clang-format on
    EXPECT_EQ(w.signature(), "sasu");
}

TEST(DbusBodyWriter, StringArrayAfterAnOddOffsetAlignsItsLength) {
    BodyWriter w;
    w.string("a").stringArray({"b"});
    // clang-format off
    EXPECT_EQ(w.data(), bytes({1, 0, 0, 0, 'a', 0, 0, 0,  //
                               6, 0, 0, 0,                  //
                               1, 0, 0, 0, 'b', 0}));
    // clang-format on
}

// ---- parse() ----

TEST(DbusParse, RoundTripsAMethodCall) {
    Message m = smallCall();
    m.interface = "org.example.I";
    m.flags = kNoReplyExpected;
    m.serial = 77;
    BodyWriter body;
    body.string("cmd").stringArray({"ls", "-l"}).unixFd(0).unixFd(1);
    m.signature = body.signature();
    m.body = body.data();
    m.unixFds = 2;
    const std::string image = encode(m);
    const Parsed p = parseWhole(image);
    EXPECT_EQ(p.size, image.size());
    expectSameHeader(p.message, m);
    EXPECT_EQ(p.message.body, m.body);
    EXPECT_FALSE(p.message.bigEndian);
}

TEST(DbusParse, RoundTripsAMethodReturn) {
    Message m;
    m.type = MessageType::MethodReturn;
    m.serial = 4;
    m.replySerial = 3;
    m.destination = ":1.7";
    m.sender = "org.freedesktop.DBus";
    BodyWriter body;
    body.string(":1.7");
    m.signature = body.signature();
    m.body = body.data();
    const Parsed p = parseWhole(encode(m));
    expectSameHeader(p.message, m);
    EXPECT_EQ(p.message.body, m.body);
}

TEST(DbusParse, RoundTripsAnError) {
    Message m;
    m.type = MessageType::Error;
    m.serial = 5;
    m.replySerial = 2;
    m.errorName = "org.freedesktop.DBus.Error.ServiceUnknown";
    m.sender = "org.freedesktop.DBus";
    BodyWriter body;
    body.string("The name is not activatable");
    m.signature = body.signature();
    m.body = body.data();
    const Parsed p = parseWhole(encode(m));
    expectSameHeader(p.message, m);
    EXPECT_EQ(errorMessage(p.message), "The name is not activatable");
}

TEST(DbusParse, RoundTripsASignal) {
    Message m;
    m.type = MessageType::Signal;
    m.serial = 6;
    m.path = "/org/governor/Manager1";
    m.interface = "org.governor.Manager1";
    m.member = "WorkloadExited";
    m.destination = ":1.9";
    m.sender = ":1.2";
    BodyWriter body;
    body.string("adhoc.slice/exec-1.scope").int32(0).int32(9);
    m.signature = body.signature();
    m.body = body.data();
    const Parsed p = parseWhole(encode(m));
    expectSameHeader(p.message, m);
    EXPECT_EQ(p.message.body, m.body);
}

TEST(DbusParse, EveryPrefixAsksForMoreBytes) {
    Message m = smallCall();
    m.interface = "org.example.I";
    const std::string image = encode(m);
    for (size_t n = 0; n < image.size(); ++n) {
        auto r = parse(std::string_view(image).substr(0, n));
        ASSERT_TRUE(r.ok()) << "prefix of " << n << " bytes: " << r.error().message();
        EXPECT_FALSE(r->has_value()) << "prefix of " << n << " bytes parsed as a message";
    }
    auto whole = parse(image);
    ASSERT_TRUE(whole.ok());
    EXPECT_TRUE(whole->has_value());
}

TEST(DbusParse, ConcatenatedMessagesParseOneAfterAnother) {
    Message a = smallCall();
    Message b;
    b.type = MessageType::MethodReturn;
    b.serial = 2;
    b.replySerial = 1;
    BodyWriter body;
    body.string("second");
    b.signature = body.signature();
    b.body = body.data();
    const std::string ia = encode(a);
    const std::string ib = encode(b);
    // The first image ends off an 8-byte boundary: the second follows it directly.
    ASSERT_NE(ia.size() % 8, 0u);
    const std::string both = ia + ib + ia.substr(0, 10);

    auto first = parse(both);
    ASSERT_TRUE(first.ok() && *first);
    EXPECT_EQ((*first)->size, ia.size());
    EXPECT_EQ((*first)->message.member, "Ping");

    auto second = parse(std::string_view(both).substr(ia.size()));
    ASSERT_TRUE(second.ok() && *second);
    EXPECT_EQ((*second)->size, ib.size());
    EXPECT_EQ((*second)->message.type, MessageType::MethodReturn);
    BodyReader r((*second)->message);
    EXPECT_EQ(r.string(), "second");

    auto rest = parse(std::string_view(both).substr(ia.size() + ib.size()));
    ASSERT_TRUE(rest.ok());
    EXPECT_FALSE(rest->has_value());
}

TEST(DbusParse, ReadsBigEndianMessages) {
    // clang-format off
    const std::string image = bytes({
        'B', 2, 0, 1, 0, 0, 0, 4, 0, 0, 0, 9, 0, 0, 0, 29,  // body 4, serial 9, fields 29
        5, 1, 'u', 0, 0, 0, 0, 7,                            // REPLY_SERIAL 7
        8, 1, 'g', 0, 1, 'u', 0, 0,                          // SIGNATURE "u", pad
        7, 1, 's', 0, 0, 0, 0, 4, ':', '1', '.', '5', 0,     // SENDER ":1.5"
        0, 0, 0,                                             // to 48
        0, 0, 1, 0x2a,                                       // u 298
    });
    // clang-format on
    const Parsed p = parseWhole(image);
    EXPECT_EQ(p.size, image.size());
    const Message& m = p.message;
    EXPECT_TRUE(m.bigEndian);
    EXPECT_EQ(m.type, MessageType::MethodReturn);
    EXPECT_EQ(m.serial, 9u);
    EXPECT_EQ(m.replySerial, 7u);
    EXPECT_EQ(m.signature, "u");
    EXPECT_EQ(m.sender, ":1.5");
    BodyReader r(m);
    EXPECT_EQ(r.uint32(), 298u);
    EXPECT_TRUE(r.atEnd());
}

TEST(DbusParse, BigEndianSignalWithFieldsOfEveryFixedWidth) {
    // Unknown fields of types 'y', 't' and 'q' are ignored, but read with their own
    // alignment; the body is a big-endian "s".
    // clang-format off
    const std::string image = bytes({
        'B', 4, 0, 1, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 87,     // body 7, serial 1, fields 87
        1, 1, 'o', 0, 0, 0, 0, 2, '/', 'x', 0, 0, 0, 0, 0, 0,  // PATH "/x", to 32
        2, 1, 's', 0, 0, 0, 0, 3, 'a', '.', 'b', 0, 0, 0, 0, 0,  // INTERFACE "a.b", to 48
        3, 1, 's', 0, 0, 0, 0, 1, 'C', 0, 0, 0, 0, 0, 0, 0,    // MEMBER "C", to 64
        100, 1, 'y', 0, 0xff, 0, 0, 0,                         // 'y', to 72
        101, 1, 't', 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,    // 't' aligned to 80, to 88
        102, 1, 'q', 0, 0, 1, 0, 0,                            // 'q', to 96
        8, 1, 'g', 0, 1, 's', 0,                               // SIGNATURE "s": ends at 103
        0,                                                     // the body at 104
        0, 0, 0, 2, 'h', 'i', 0,                               // s "hi"
    });
    // clang-format on
    const Parsed p = parseWhole(image);
    EXPECT_EQ(p.size, image.size());
    const Message& m = p.message;
    EXPECT_TRUE(m.bigEndian);
    EXPECT_EQ(m.type, MessageType::Signal);
    EXPECT_EQ(m.serial, 1u);
    EXPECT_EQ(m.path, "/x");
    EXPECT_EQ(m.interface, "a.b");
    EXPECT_EQ(m.member, "C");
    EXPECT_EQ(m.signature, "s");
    BodyReader r(m);
    EXPECT_EQ(r.string(), "hi");
    EXPECT_TRUE(r.atEnd());
}

TEST(DbusParse, RejectsABadByteOrderMark) {
    std::string image = encode(smallCall());
    image[0] = 'x';
    EXPECT_NE(parseError(image).find("byte-order"), std::string::npos);
}

TEST(DbusParse, RejectsUnknownMessageTypes) {
    for (int type : {0, 5, 255}) {
        std::string image = encode(smallCall());
        image[1] = static_cast<char>(type);
        EXPECT_NE(parseError(image).find("message type " + std::to_string(type)),
                  std::string::npos);
    }
}

TEST(DbusParse, RejectsAnotherProtocolVersion) {
    std::string image = encode(smallCall());
    image[3] = 2;
    EXPECT_NE(parseError(image).find("protocol version 2"), std::string::npos);
}

TEST(DbusParse, RejectsSerialZero) {
    Message m = smallCall();
    m.serial = 0;
    EXPECT_NE(parseError(encode(m)).find("serial 0"), std::string::npos);
}

TEST(DbusParse, RejectsAStringLengthPastTheHeader) {
    std::string image = encode(smallCall());
    putLe32(image, 20, 0xffffff00);  // PATH's length
    parseError(image);
    putLe32(image, 20, 60);  // inside the message, but past the header fields
    parseError(image);
}

TEST(DbusParse, RejectsAFieldArrayShorterThanItsLastField) {
    std::string image = encode(smallCall());
    // 54 instead of 55: the SIGNATURE field's nul is outside the array; the body
    // still starts at 72, so only the field is wrong.
    putLe32(image, 12, 54);
    parseError(image);
    // 50: the array ends inside SIGNATURE's fixed part.
    putLe32(image, 12, 50);
    parseError(image);
}

TEST(DbusParse, RejectsAFieldArrayLongerThanItsFields) {
    std::string image = encode(smallCall());
    putLe32(image, 12, 56);  // one byte of padding counted in: not a field
    parseError(image);
}

TEST(DbusParse, RejectsAStringWithoutItsNul) {
    std::string image = encode(smallCall());
    image[26] = 'x';  // the nul after "/o"
    EXPECT_NE(parseError(image).find("nul"), std::string::npos);
    image = encode(smallCall());
    image[70] = 'x';  // the nul after the signature "u"
    EXPECT_NE(parseError(image).find("nul"), std::string::npos);
}

TEST(DbusParse, RejectsHeaderFieldsOfNonBasicTypes) {
    // A two-character variant signature ("as").
    std::string image = encode(smallCall());
    image[17] = 2;
    image[18] = 'a';
    image[19] = 's';
    EXPECT_NE(parseError(image).find("basic"), std::string::npos);
    // One character, but a container or a variant.
    for (char type : {'a', 'v', '(', '{', 'z'}) {
        image = encode(smallCall());
        image[18] = type;
        EXPECT_NE(parseError(image).find("unsupported type"), std::string::npos) << type;
    }
}

TEST(DbusParse, RejectsAKnownFieldOfTheWrongType) {
    std::string image = encode(smallCall());
    image[34] = 'o';  // MEMBER as an object path
    EXPECT_NE(parseError(image).find("header field 3"), std::string::npos);
}

TEST(DbusParse, RejectsNonZeroPaddingBeforeTheBody) {
    std::string image = encode(smallCall());
    image[71] = 1;
    EXPECT_NE(parseError(image).find("padding"), std::string::npos);
}

TEST(DbusParse, RejectsMessagesMissingTheirRequiredFields) {
    Message call = smallCall();
    call.member.clear();
    EXPECT_NE(parseError(encode(call)).find("method call"), std::string::npos);
    call = smallCall();
    call.path.clear();
    parseError(encode(call));

    Message ret;
    ret.type = MessageType::MethodReturn;
    ret.serial = 1;
    EXPECT_NE(parseError(encode(ret)).find("reply serial"), std::string::npos);

    Message error;
    error.type = MessageType::Error;
    error.serial = 1;
    error.errorName = "a.B";
    EXPECT_NE(parseError(encode(error)).find("error without"), std::string::npos);
    error.replySerial = 1;
    error.errorName.clear();
    parseError(encode(error));

    Message signal;
    signal.type = MessageType::Signal;
    signal.serial = 1;
    signal.path = "/x";
    signal.member = "C";
    EXPECT_NE(parseError(encode(signal)).find("signal without"), std::string::npos);
}

TEST(DbusParse, RejectsABodyWithoutSignature) {
    Message m = smallCall();
    m.signature.clear();
    EXPECT_NE(parseError(encode(m)).find("body without signature"), std::string::npos);
}

TEST(DbusParse, RejectsMessagesLargerThanTheLimitBeforeReadingThem) {
    // Only the fixed header is there: the size alone is refused, no "read more".
    std::string image = encode(smallCall()).substr(0, 16);
    putLe32(image, 4, kMaxMessageSize);
    EXPECT_NE(parseError(image).find("too large"), std::string::npos);
    putLe32(image, 4, 0xffffffff);
    parseError(image);
    image = encode(smallCall()).substr(0, 16);
    putLe32(image, 12, 0xfffffff0);
    parseError(image);
    // Each part within the limit, their sum not.
    putLe32(image, 4, kMaxMessageSize - 8);
    putLe32(image, 12, 64);
    parseError(image);
}

// ---- BodyReader ----

Message withBody(const BodyWriter& w) {
    Message m;
    m.signature = w.signature();
    m.body = w.data();
    return m;
}

TEST(DbusBodyReader, ReadsStringThenUint32) {
    BodyWriter w;
    w.string(":1.42").uint32(4242);
    const Message m = withBody(w);
    BodyReader r(m);
    EXPECT_EQ(r.string(), ":1.42");
    EXPECT_FALSE(r.atEnd());
    EXPECT_EQ(r.uint32(), 4242u);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.atEnd());
}

TEST(DbusBodyReader, ReadsStringUint32AndTwoInt32s) {
    BodyWriter w;
    w.string("adhoc.slice/exec-1.scope").uint32(1234).int32(-9).int32(0x7fffffff);
    const Message m = withBody(w);
    BodyReader r(m);
    EXPECT_EQ(r.string(), "adhoc.slice/exec-1.scope");
    EXPECT_EQ(r.uint32(), 1234u);
    EXPECT_EQ(r.int32(), -9);
    EXPECT_EQ(r.int32(), 0x7fffffff);
    EXPECT_TRUE(r.atEnd());
}

TEST(DbusBodyReader, ReadsAnObjectPathAsAString) {
    Message m = withBody(BodyWriter().string("/org/x"));
    m.signature = "o";
    BodyReader r(m);
    EXPECT_EQ(r.string(), "/org/x");
    EXPECT_TRUE(r.atEnd());
}

TEST(DbusBodyReader, AReadOfTheWrongTypeFailsAndStaysFailed) {
    BodyWriter w;
    w.string("x").uint32(1);
    const Message m = withBody(w);
    BodyReader r(m);
    EXPECT_EQ(r.uint32(), 0u);  // the body starts with a string
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.string(), "");  // even the right type now
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.atEnd());

    BodyReader i(m);
    EXPECT_EQ(i.string(), "x");
    EXPECT_EQ(i.int32(), 0);  // 'u', not 'i'
    EXPECT_FALSE(i.ok());
}

TEST(DbusBodyReader, ReadingPastTheSignatureFails) {
    const Message m = withBody(BodyWriter().uint32(3));
    BodyReader r(m);
    EXPECT_EQ(r.uint32(), 3u);
    EXPECT_TRUE(r.atEnd());
    EXPECT_EQ(r.uint32(), 0u);
    EXPECT_FALSE(r.ok());
}

TEST(DbusBodyReader, ATruncatedBodyFails) {
    BodyWriter w;
    w.string("hello").uint32(7);
    Message m = withBody(w);
    // Every truncation fails somewhere in the tuple, never reads past the end.
    for (size_t n = 0; n < w.data().size(); ++n) {
        m.body = w.data().substr(0, n);
        BodyReader r(m);
        (void)r.string();
        (void)r.uint32();
        EXPECT_FALSE(r.ok()) << n << " bytes";
    }
}

TEST(DbusBodyReader, AStringWithoutNulOrWithAnInnerNulFails) {
    Message m = withBody(BodyWriter().string("ab"));
    m.body[6] = 'c';
    BodyReader r(m);
    (void)r.string();
    EXPECT_FALSE(r.ok());

    m = withBody(BodyWriter().string("ab"));
    m.body[4] = '\0';
    BodyReader inner(m);
    (void)inner.string();
    EXPECT_FALSE(inner.ok());
}

// ---- addresses ----

using Paths = std::vector<std::string>;

TEST(DbusAddress, UnixPath) {
    EXPECT_EQ(unixSocketPaths("unix:path=/a"), (Paths{"/a"}));
    EXPECT_EQ(unixSocketPaths("unix:path=/run/dbus/system_bus_socket"),
              (Paths{"/run/dbus/system_bus_socket"}));
}

TEST(DbusAddress, AbstractSocketsStartWithAt) {
    EXPECT_EQ(unixSocketPaths("unix:abstract=x,guid=0123456789abcdef0123456789abcdef"),
              (Paths{"@x"}));
    EXPECT_EQ(unixSocketPaths("unix:guid=01,abstract=/tmp/dbus-x"), (Paths{"@/tmp/dbus-x"}));
}

TEST(DbusAddress, PercentEscapesAreUndone) {
    EXPECT_EQ(unixSocketPaths("unix:path=%2frun%2Fbus"), (Paths{"/run/bus"}));
    EXPECT_EQ(unixSocketPaths("unix:path=/a%2cb%3dc%3b"), (Paths{"/a,b=c;"}));
    EXPECT_EQ(unixSocketPaths("unix:path=/x%2f"), (Paths{"/x/"}));  // escape at the end
}

TEST(DbusAddress, SeveralAddressesInOrder) {
    EXPECT_EQ(unixSocketPaths("unix:path=/a;unix:abstract=b;unix:path=/c"),
              (Paths{"/a", "@b", "/c"}));
}

TEST(DbusAddress, OtherTransportsAreSkipped) {
    EXPECT_EQ(unixSocketPaths("tcp:host=localhost,port=1234;unix:path=/a"), (Paths{"/a"}));
    EXPECT_EQ(unixSocketPaths("unixexec:path=/bin/true;launchd:env=X;nonce-tcp:host=h"), Paths{});
    EXPECT_EQ(unixSocketPaths(""), Paths{});
    EXPECT_EQ(unixSocketPaths(";;unix:path=/a;"), (Paths{"/a"}));
}

TEST(DbusAddress, BadEscapesAndEmptyValuesAreSkipped) {
    EXPECT_EQ(unixSocketPaths("unix:path=/a%zz;unix:path=/b"), (Paths{"/b"}));
    EXPECT_EQ(unixSocketPaths("unix:path=/a%2;unix:path=/b%"), Paths{});
    EXPECT_EQ(unixSocketPaths("unix:path=;unix:path"), Paths{});
    // tmpdir= and dir= are for listening, not connecting.
    EXPECT_EQ(unixSocketPaths("unix:tmpdir=/tmp"), Paths{});
}

TEST(DbusAddress, SystemBusAddressComesFromTheEnvironmentElseTheWellKnownSocket) {
    const char* saved = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    const std::string restore = saved ? saved : "";
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/tmp/x", 1);
    EXPECT_EQ(systemBusAddress(), "unix:path=/tmp/x");
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "", 1);
    EXPECT_EQ(systemBusAddress(), "unix:path=/run/dbus/system_bus_socket");
    ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    EXPECT_EQ(systemBusAddress(), "unix:path=/run/dbus/system_bus_socket");
    if (saved)
        ::setenv("DBUS_SYSTEM_BUS_ADDRESS", restore.c_str(), 1);
}

}  // namespace
}  // namespace gov::wire

namespace gov::govctl {
namespace {

using Args = std::vector<std::string>;

void expectLine(const Args& args, const std::string& className, const Args& command) {
    auto line = parseExecLine(args);
    ASSERT_TRUE(line.has_value()) << testing::PrintToString(args);
    EXPECT_EQ(line->className, className);
    EXPECT_EQ(line->command, command);
}

TEST(ParseExecLine, AcceptsEveryFormOfTheClassOption) {
    expectLine({"govctl", "exec", "--class", "adhoc", "true"}, "adhoc", {"true"});
    expectLine({"govctl", "exec", "--class=adhoc", "true"}, "adhoc", {"true"});
    expectLine({"govctl", "exec", "-c", "adhoc", "true"}, "adhoc", {"true"});
    expectLine({"govctl", "exec", "-cadhoc", "true"}, "adhoc", {"true"});
}

TEST(ParseExecLine, DoubleDashEndsExecsOptionsAndIsDropped) {
    expectLine({"govctl", "exec", "--class", "adhoc", "--", "true"}, "adhoc", {"true"});
    expectLine({"govctl", "exec", "-cadhoc", "--", "--weird", "-c", "x"}, "adhoc",
               {"--weird", "-c", "x"});
    expectLine({"govctl", "exec", "-c", "adhoc", "--", "--"}, "adhoc", {"--"});
}

TEST(ParseExecLine, CommandOptionsAfterTheCommandAreKept) {
    expectLine({"govctl", "exec", "-c", "adhoc", "ls", "-l"}, "adhoc", {"ls", "-l"});
    expectLine({"govctl", "exec", "--class=adhoc", "sh", "-c", "x", "--class", "y", "--help"},
               "adhoc", {"sh", "-c", "x", "--class", "y", "--help"});
}

TEST(ParseExecLine, RefusesWhatTheFullGovctlMustExplain) {
    const std::vector<Args> refused = {
        {"govctl", "exec"},
        {"govctl", "exec", "true"},                              // no class
        {"govctl", "exec", "--", "true"},                        // no class
        {"govctl", "exec", "--class", "adhoc"},                  // no command
        {"govctl", "exec", "-c", "adhoc", "--"},                 // no command
        {"govctl", "exec", "--help"},                            //
        {"govctl", "exec", "-h", "-c", "adhoc", "true"},         //
        {"govctl", "exec", "-c", "adhoc", "--help", "true"},     //
        {"govctl", "exec", "-c", "adhoc", "-h", "true"},         //
        {"govctl", "exec", "--verbose", "-c", "adhoc", "true"},  // unknown option
        {"govctl", "exec", "-c", "adhoc", "-x", "true"},         // unknown option
        {"govctl", "exec", "-c", "a", "-c", "b", "true"},        // class twice
        {"govctl", "exec", "--class=a", "-cb", "true"},          // class twice
        {"govctl", "exec", "-c", "a", "--class", "a", "true"},   // twice, even if equal
        {"govctl", "exec", "-c"},                                // -c last
        {"govctl", "exec", "true", "--class"},                   // no class before the command
        {"govctl", "exec", "--class="},                          // empty class
        {"govctl", "exec", "--class=", "true"},                  //
        {"govctl", "exec", "-c", "", "true"},                    //
        {"govctl", "ls", "-c", "adhoc", "true"},                 // not exec
        {"govctl", "--json", "exec", "-c", "adhoc", "true"},     // a global option first
        {"govctl"},                                              //
        {},
    };
    for (const auto& args : refused)
        EXPECT_FALSE(parseExecLine(args).has_value()) << testing::PrintToString(args);
}

}  // namespace
}  // namespace gov::govctl
