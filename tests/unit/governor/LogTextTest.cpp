// gov/LogText.hpp: client text made safe for one log line.
#include <gtest/gtest.h>

#include <string>

#include "gov/LogText.hpp"

namespace gov {
namespace {

TEST(LogText, ControlCharactersAreEscapedSoOneEventStaysOneLine) {
    EXPECT_EQ(logQuoted("a\nb\r\tc\\d\"e"), "\"a\\nb\\r\\tc\\\\d\\\"e\"");
    EXPECT_EQ(logEscaped("class 'x\ny'"), "class 'x\\ny'");
    EXPECT_EQ(logQuoted(std::string("\x1b[31m\x7f\0z", 8)), "\"\\x1b[31m\\x7f\\x00z\"");
    EXPECT_EQ(logQuoted("caf\xc3\xa9"), "\"caf\\xc3\\xa9\"") << "bytes past ASCII too";
}

TEST(LogText, PlainTextIsLeftAsItIs) {
    EXPECT_EQ(logQuoted("tcpdump"), "\"tcpdump\"");
    EXPECT_EQ(logEscaped("adhoc.slice/tcpdump-1-2.scope"), "adhoc.slice/tcpdump-1-2.scope");
}

TEST(LogText, LongTextIsCutWithItsLengthStated) {
    const std::string huge(100000, 'k');
    EXPECT_EQ(logQuoted(huge), "\"" + std::string(kLogTextMax, 'k') + "...\" [cut: 100000 bytes]");
    EXPECT_EQ(logEscaped(huge, 4), "kkkk... [cut: 100000 bytes]");
    EXPECT_EQ(logEscaped(std::string(kLogTextMax, 'k')), std::string(kLogTextMax, 'k'));
}

}  // namespace
}  // namespace gov
